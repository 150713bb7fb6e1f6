import LoupeCore
import LoupeData
import LoupeNN

/// One key of an experiment file as its reader takes it: what a user may write, the default
/// applied when it is absent, and what it means.
public struct SchemaKey: Sendable {
    /// The key as written; `<…>` names a placeholder (a preset's name, a dotted setting).
    public let name: String
    /// What the value may be, in words (`integer ≥ 1`, `one of same, valid`).
    public let type: String
    public let defaultValue: SchemaDefault
    /// One line.
    public let meaning: String
}

/// What a reader does when a key is absent.
public indirect enum SchemaDefault: Sendable {
    /// This value is applied, written as in YAML (`300`, `val_loss`, `[]`).
    case value(String)
    /// The file must give the key; the text, if any, says when (`for conv2d`).
    case required(String?)
    /// Nothing is applied; the text says what absence means.
    case absent(String)
    /// Another key's value: a key of the same mapping (`kernel`) or a dotted key from the top
    /// (`probes.activations`).
    case sameAs(String)
    /// Follows another key of the same mapping: the default of the first case whose value it
    /// has, else `otherwise`.
    case depending(on: String, [(value: String, then: SchemaDefault)], otherwise: SchemaDefault?)
}

extension SchemaDefault: CustomStringConvertible {
    /// As the reference page writes it: `` `300` ``, **required**, — (what absence means),
    /// = `kernel`, by `type`: maxpool `2`, else `3`.
    public var description: String {
        switch self {
        case let .value(text): return "`\(text)`"
        case let .required(condition): return "**required**" + (condition.map { " " + $0 } ?? "")
        case let .absent(meaning): return meaning.isEmpty ? "—" : "— (\(meaning))"
        case let .sameAs(key): return "= `\(key)`"
        case let .depending(key, cases, otherwise):
            let choices = cases.map { choice -> String in
                if case .depending = choice.then { return "\(choice.value) (\(choice.then))" }
                return "\(choice.value) \(choice.then)"
            } + (otherwise.map { ["else \($0)"] } ?? [])
            return "by `\(key)`: " + choices.joined(separator: ", ")
        }
    }
}

/// One mapping of an experiment file and its keys.
public struct SchemaSection: Sendable {
    /// Where it is: `train.early_stopping`; `model.layers[]` for each entry of a list; `""` for
    /// the top level.
    public let path: String
    public let about: String
    public let keys: [SchemaKey]
    /// The keys a reader of this mapping allows.
    public var names: [String] { keys.map(\.name) }
}

/// Every key of an experiment file, with its type, default and meaning: the readers
/// (`TrialConfig`, `InspectConfig`) take their allowed keys from here, `loupe keys` prints it as
/// `docs/experiment-keys.md`, and tests hold each default the readers apply to the one stated here.
public enum ConfigSchema {
    /// The section at `path`; a programming error if there is none.
    public static func section(_ path: String) -> SchemaSection {
        guard let section = sections.first(where: { $0.path == path }) else { preconditionFailure("no schema section '\(path)'") }
        return section
    }

    /// The keys a reader of the mapping at `path` allows.
    static func keys(_ path: String) -> [String] { section(path).names }

    static func byVariant(tf1: String, pytorch: String) -> SchemaDefault {
        .depending(on: "variant", [("tf1", .value(tf1)), ("pytorch", .value(pytorch))], otherwise: nil)
    }
    static func oneOf(_ choices: [String]) -> String { "one of " + choices.joined(separator: ", ") }
    static func key(_ name: String, _ type: String, _ defaultValue: SchemaDefault, _ meaning: String) -> SchemaKey {
        SchemaKey(name: name, type: type, defaultValue: defaultValue, meaning: meaning)
    }

    public static let sections: [SchemaSection] = [
        SchemaSection(path: "", about: "The top level of an experiment file.", keys: [
            key("name", "text", .absent("the file's name without its extension"), "the experiment's name, shown by the console and the report"),
            key("data", "mapping (`data`)", .required(nil), "the data set every trial trains and tests on"),
            key("model", "mapping (`model`), or the name of a preset under `models`", .required(nil), "the network"),
            key("models", "mapping of names to models (`models`)", .absent("no presets"), "named models, so that `model` can be a sweep axis"),
            key("train", "mapping (`train`)", .absent("every `train` key's default"), "steps, batches, evaluations, checkpoints, seed"),
            key("optimizer", "mapping (`optimizer`)", .required(nil), "the update rule and its hyper-parameters"),
            key("probes", "mapping (`probes`)", .absent("no probes"), "activation statistics and the confusion matrix at the end"),
            key("tensorboard", "mapping (`tensorboard`)", .absent("every `tensorboard` key's default"), "what the TensorBoard event files hold beyond the scalars"),
            key("inspect", "`true` (every figure), or a mapping (`inspect`)", .absent("no figures while running; `loupe inspect` can draw them later"),
                "figures of the inside of each trained CNN"),
            key("sweep", "mapping (`sweep`)", .absent("one trial"), "the trials: a grid of axes, included configurations, seeds"),
            key("reference", "list of mappings (`reference[]`)", .absent("no comparison"), "published results the report compares with"),
        ]),
        SchemaSection(path: "data", about: "The data set: a catalog name or a folder in a format.", keys: [
            key("dataset", "a catalog name (`loupe data list`)", .required("unless `path` is given"),
                "a data set of the catalog, e.g. `mnist`, fetched by `loupe data get`"),
            key("path", "a folder", .required("unless `dataset` is given"), "a data set of your own, laid out as `format` says"),
            key("format", oneOf(DatasetFormat.allCases.map(\.rawValue)), .value("folder"),
                "how `path` is laid out: `Train/<class>/*.png` and `Test/…`, MNIST's IDX files, CIFAR-10's binary batches"),
            key("channels", oneOf(["automatic", "gray", "rgb"]), .value("automatic"),
                "the images' channels: as the files hold them, reduced to gray (ITU-R 601 luma) or widened to RGB"),
            key("resize", "[height, width], integers ≥ 1", .absent("the images keep their size"), "resampled bilinearly when read"),
            key("sequence", oneOf(DataConfig.SequenceMode.allCases.map(\.rawValue)), .value("none"),
                "`rows`: each image is read as the sequence of its rows, [H, W·C], for recurrent models"),
            key("classes", "list of class names", .absent("the class folders' names, or the labels' numbers"),
                "the labels 0, 1, … in order: a folder data set's class folders, or names for the labels"),
            key("validation", "number in (0, 1)", .absent("no validation split"),
                "that share of the training split held out, measured at each evaluation (loss, accuracy)"),
            key("validation_seed", "integer ≥ 0", .value("0"), "the seed of the held-out draw, the same for every trial (with `validation` only)"),
        ]),
        SchemaSection(path: "model", about: "The network: a named builder or a list of layers. Each preset under `models` is such a mapping too.", keys: [
            key("builder", oneOf(ModelConfig.builders), .required("unless `layers` is given"),
                "a built-in network: `lenet` is the reference's two-conv CNN"),
            key("keep_probability", "number in (0, 1]", .value("0.5"), "the builder's dropout: the probability of keeping a unit while training"),
            key("layers", "list of layers (`model.layers[]`)", .required("unless `builder` is given"), "the layers in order, input to output"),
        ]),
        SchemaSection(path: "models", about: "Named models, so that whole models can be a sweep axis (`sweep: {model: [cnn, lstm]}`).", keys: [
            key("<preset name>", "mapping (`model`)", .absent("no such preset"), "a model that `model: <preset name>` picks"),
        ]),
        SchemaSection(path: "model.layers[]", about: "One layer of `model.layers`. Keys a layer's type does not use are refused or ignored as noted.", keys: [
            key("type", oneOf(LayerConfig.Kind.allCases.map(\.rawValue)), .required(nil), "what the layer computes"),
            key("name", "text without `.`", .absent("its type and number: `conv2d1`, `dense2`, …"),
                "the layer's name in probes, `inspect.layers`, TensorBoard and the weights files"),
            key("filters", "integer ≥ 1", .required("for conv2d"), "conv2d: output channels"),
            key("kernel", "integer ≥ 1", .depending(on: "type", [("maxpool", .value("2"))], otherwise: .value("3")),
                "conv2d, maxpool: the side of the square window"),
            key("size", "integer ≥ 1", .absent("`kernel` decides"), "maxpool: another name for `kernel`"),
            key("stride", "integer ≥ 1", .depending(on: "type", [("maxpool", .sameAs("kernel"))], otherwise: .value("1")),
                "conv2d, maxpool: the window's step"),
            key("padding", oneOf(Padding.allCases.map(\.rawValue)), .value("same"), "conv2d, maxpool: `same` keeps the size (at stride 1), `valid` pads nothing"),
            key("units", "integer ≥ 1", .required("for dense, rnn, lstm, gru"), "dense: outputs; rnn, lstm, gru: the hidden state's size"),
            key("keep_probability", "number in (0, 1]", .value("0.5"), "dropout: the probability of keeping a unit while training"),
            key("activation", oneOf(["relu", "tanh", "sigmoid"]), .absent("none"), "conv2d, dense: an activation layer after it, named `<layer>_relu` (…)"),
            key("weight_init", "a number (a constant), an initializer's name, or a mapping (`initializer`)", .value("glorot_uniform"),
                "conv2d, dense: the initial weights (recurrent layers' follow `variant`)"),
            key("bias_init", "as `weight_init`", .value("zeros"), "conv2d, dense: the initial biases"),
            key("variant", oneOf(RecurrentVariant.allCases.map(\.rawValue)), .value("tf1"),
                "rnn, lstm, gru: whose conventions (initial weights, LSTM forget bias, GRU reset) the layer follows"),
            key("return_sequences", "true or false", .value("false"), "rnn, lstm, gru: every step's state, not only the last (to stack another)"),
            key("forget_bias", "number", byVariant(tf1: "1", pytorch: "0"),
                "lstm: added to the forget gate's pre-activation in the cell"),
        ]),
        SchemaSection(path: "initializer", about: "`weight_init` or `bias_init` given as a mapping, e.g. `{name: truncated_normal, std: 0.1}`; a name alone takes these defaults.", keys: [
            key("name", oneOf(LayerConfig.initializerNames), .required(nil), "the distribution (glorot and he: Glorot & Bengio 2010, He et al. 2015)"),
            key("std", "number > 0", .value("0.1"), "truncated_normal, normal: the standard deviation"),
            key("mean", "number", .value("0"), "truncated_normal, normal: the mean"),
            key("min", "number", .value("-0.05"), "uniform: the lower bound"),
            key("max", "number", .value("0.05"), "uniform: the upper bound"),
            key("value", "number", .value("0"), "constant: the value"),
        ]),
        SchemaSection(path: "train", about: "How long and how a trial trains, and what it measures and keeps on the way.", keys: [
            key("steps", "integer ≥ 1", .value("300"), "optimizer steps (batches) to train"),
            key("epochs", "integer ≥ 1", .absent("`steps` decides"), "instead of `steps`: ⌈epochs · training examples / batch_size⌉ steps"),
            key("batch_size", "integer ≥ 1", .value("50"), "examples per step"),
            key("log_every", "integer ≥ 1", .value("10"), "steps between rows of `metrics.csv` (loss, accuracy, learning rate)"),
            key("eval_every", "integer ≥ 0", .value("0"), "steps between test (and validation) evaluations; 0: at the end only"),
            key("checkpoint_every", "integer ≥ 0", .value("100"), "steps between checkpoints, which `--resume` continues from; 0: only when stopped"),
            key("seed", "integer ≥ 0", .value("0"), "seeds the initial weights, the dropout masks and the batches' draws"),
            key("sampling", oneOf(["with_replacement", "epochs"]), .value("with_replacement"),
                "each batch drawn independently with replacement, or epochs of a fresh shuffle"),
            key("early_stopping", "mapping (`train.early_stopping`)", .absent("no early stopping"),
                "stop when the validation metric stops improving (needs `data.validation` and `eval_every`)"),
            key("keep_best", "true or false", .value("false"),
                "the final weights are those of the best validation evaluation (needs `data.validation` and `eval_every`)"),
        ]),
        SchemaSection(path: "train.early_stopping", about: "Stop a trial whose validation metric has stopped improving.", keys: [
            key("metric", oneOf(TrainConfig.EarlyStopping.Metric.allCases.map(\.rawValue)), .value("val_loss"),
                "the validation metric watched (also by `keep_best`)"),
            key("patience", "integer ≥ 1", .value("5"), "evaluations in a row without improvement before the trial stops"),
            key("min_delta", "number ≥ 0", .value("0"), "the least change that counts as an improvement"),
        ]),
        SchemaSection(path: "optimizer", about: "The update rule, TensorFlow 1.x's or PyTorch's, and its hyper-parameters (Keras' names in snake_case).", keys: [
            key("name", oneOf(OptimizerConfig.names), .required(nil), "the update rule"),
            key("lr", "number ≥ 0", .required(nil), "the learning rate (the schedule's initial value)"),
            key("variant", oneOf(OptimizerVariant.allCases.map(\.rawValue)), .value("tf1"), "whose form of the rule: TensorFlow 1.x's or PyTorch's"),
            key("momentum", "number in [0, 1]", .depending(on: "name", [("momentum", .value("0.9")), ("rmsprop", .value("0"))], otherwise: nil),
                "momentum, rmsprop: the momentum coefficient"),
            key("nesterov", "true or false", .value("false"), "momentum: Nesterov's form"),
            key("beta1", "number in [0, 1]", .value("0.9"), "adam, adamw: decay of the gradient's running mean"),
            key("beta2", "number in [0, 1]", .value("0.999"), "adam, adamw: decay of the squared gradient's running mean"),
            key("epsilon", "number ≥ 0", .depending(on: "name", [
                ("adagrad", byVariant(tf1: "0", pytorch: "1e-10")), ("rmsprop", byVariant(tf1: "1e-10", pytorch: "1e-8")),
                ("adam", .value("1e-8")), ("adamw", .value("1e-8")),
            ], otherwise: nil), "adagrad, rmsprop, adam, adamw: the ε in the denominator (where: the README's Optimizers)"),
            key("rho", "number in [0, 1]", .depending(on: "name", [("rmsprop", byVariant(tf1: "0.9", pytorch: "0.99"))], otherwise: nil),
                "rmsprop: decay of the mean square (PyTorch's alpha)"),
            key("centered", "true or false", .value("false"), "rmsprop: divide by the variance's estimate rather than the mean square"),
            key("initial_accumulator_value", "number ≥ 0", .depending(on: "name", [("adagrad", byVariant(tf1: "0.1", pytorch: "0"))], otherwise: nil),
                "adagrad: the accumulator's start"),
            key("weight_decay", "number ≥ 0", .depending(on: "name", [("adamw", .value("0.01"))], otherwise: .value("0")),
                "L2 added to the gradient (g + wd·θ); adamw: decoupled decay"),
            key("clip_norm", "number > 0", .absent("no clipping"), "the gradients' global norm is clipped to this"),
            key("schedule", "mapping (`optimizer.schedule`)", .absent("a constant rate, `lr`"), "the learning rate over the steps"),
        ]),
        SchemaSection(path: "optimizer.schedule", about: "The learning rate over the steps, from `optimizer.lr`; each name reads only its own keys.", keys: [
            key("name", oneOf(ScheduleConfig.names), .value("constant"), "the schedule"),
            key("factor", "number ≥ 0", .value("0.1"), "step: the rate is multiplied by this every `every` steps"),
            key("every", "integer ≥ 1", .value("1000"), "step: steps between multiplications"),
            key("decay_rate", "number ≥ 0", .value("0.96"), "exponential: lr · decay_rate^(step / decay_steps)"),
            key("decay_steps", "integer ≥ 1", .value("1000"), "exponential: the period of one decay_rate; cosine: the steps to the minimum"),
            key("staircase", "true or false", .value("false"), "exponential: whole periods only (the rate changes every decay_steps)"),
            key("alpha", "number in [0, 1]", .value("0"), "cosine: the minimum, as a fraction of lr"),
            key("warmup_steps", "integer ≥ 0", .value("0"), "any schedule: a linear rise from 0 over these steps first"),
        ]),
        SchemaSection(path: "probes", about: "Measured on the final weights: activation statistics of named layers, the confusion matrix.", keys: [
            key("activations", "list of layer names", .value("[]"), "layers whose activations' statistics (dead units, …) each summary records"),
            key("confusion", "true or false", .value("false"), "the test split's confusion matrix in the summary"),
        ]),
        SchemaSection(path: "tensorboard", about: "The event files always hold the scalars, the HParams session and, at the end, weight histograms and the first layer's filters.", keys: [
            key("histogram_every", "integer ≥ 0", .value("0"),
                "every N steps, histograms of the weights, gradients and activations, and the filters; 0: at the end only"),
            key("activations", "list of layer names", .sameAs("probes.activations"),
                "layers whose activations are histogrammed (the first 100 test examples)"),
        ]),
        SchemaSection(path: "inspect", about: "Figures LoupeInsight draws of each trained CNN (Zeiler & Fergus 2014), as `loupe inspect` does.", keys: [
            key("what", "list of " + InspectConfig.Figure.allCases.map(\.rawValue).joined(separator: ", "),
                .value("[" + InspectConfig.Figure.allCases.map(\.rawValue).joined(separator: ", ") + "]"), "the figures to draw"),
            key("layers", "list of layer names", .absent("every conv layer"), "the layers the figures show"),
            key("maps", "integer ≥ 0", .value("0"), "top9: feature maps per layer; 0: all, else a seeded sample"),
            key("top", "integer from 1 to 100", .value("9"), "top9: images per feature map"),
            key("images", "list of test image indices (integers ≥ 0)", .absent("the first test image of each of the first 5 classes"),
                "the images of deconv, invariance, occlusion, maps and saliency"),
            key("limit", "integer ≥ 0", .value("0"), "top9, evolution: test images searched; 0: all"),
            key("snapshots", "`auto`, or a list of steps (integers ≥ 1)", .value("auto"),
                "evolution: the steps whose weights are kept; `auto`: 1, 2, 5, 10, 20, 50, … below `train.steps`"),
            key("evolution_maps", "integer ≥ 1", .value("8"), "evolution: feature maps per layer followed across the snapshots"),
            key("occlusion", "mapping (`inspect.occlusion`)", .absent("every `inspect.occlusion` key's default"), "the occluding square"),
        ]),
        SchemaSection(path: "inspect.occlusion", about: "The square that the occlusion figure slides over each image.", keys: [
            key("size", "integer ≥ 1", .absent("a quarter of the image's shorter side"), "the square's side in pixels"),
            key("stride", "integer ≥ 1", .value("1"), "pixels between the square's positions"),
            key("fill", "`mean`, or a number in [0, 1]", .value("mean"), "the square's gray: the data set's mean pixel, or this value"),
        ]),
        SchemaSection(path: "sweep", about: "The trials: the grid of the axes (or one configuration), plus the included ones, each for every seed; numbered seed by seed.", keys: [
            key("<dotted key>", "non-empty list of values", .absent("no such axis"),
                "an axis, e.g. `optimizer.lr: [1.0e-3, 1.0e-4]`; `model: [cnn, rnn]` sweeps presets"),
            key("include", "list of mappings of dotted keys to values", .absent("no extra configurations"),
                "configurations added after the grid, e.g. `[{optimizer.name: momentum, optimizer.momentum: 0.5}]`"),
            key("seeds", "non-empty list of integers ≥ 0", .absent("`train.seed` only"), "every configuration is run once for each, as `train.seed`"),
        ]),
        SchemaSection(path: "reference[]", about: "One published result, compared in the report with the seed group whose settings match.", keys: [
            key("<dotted key>", "a single value", .absent("any value matches"), "a setting the result was measured with, e.g. `optimizer.lr: 1.0e-3`"),
            key("test_accuracy", "number in [0, 1]", .required(nil), "the published test accuracy"),
            key("source", "text", .absent("none shown"), "where the result comes from"),
        ]),
    ]
}
