import LoupeCore
import LoupeData
import LoupeNN

/// One trial's validated settings: what `experiment.yaml` means once the sweep has picked its
/// values. Every field is checked when it is read; errors name the key and its line.
public struct TrialConfig: Sendable {
    public var data: DataConfig
    public var model: ModelConfig
    public var train: TrainConfig
    public var optimizer: OptimizerConfig
    public var probes: ProbeConfig
    public var tensorboard: TensorBoardConfig
    /// What to draw of the trained network's inside (`inspect:`), when the file asks for it.
    public var inspect: InspectConfig?

    public init(_ tree: ConfigNode) throws {
        let top = try ConfigReader(tree, path: "", section: "")
        guard let data = try top.reader("data", section: "data") else { throw top.fail("data", "is missing: name a dataset (data.dataset) or a path") }
        self.data = try DataConfig(data)
        guard let model = try Self.modelReader(top) else { throw top.fail("model", "is missing: give model.builder (lenet) or model.layers") }
        self.model = try ModelConfig(model)
        self.train = try TrainConfig(try top.reader("train", section: "train") ?? .empty(at: tree.source, path: "train", section: "train"))
        guard let optimizer = try top.reader("optimizer", section: "optimizer") else { throw top.fail("optimizer", "is missing: give optimizer.name and optimizer.lr") }
        self.optimizer = try OptimizerConfig(optimizer)
        self.probes = try ProbeConfig(try top.reader("probes", section: "probes") ?? .empty(at: tree.source, path: "probes", section: "probes"))
        if (self.train.earlyStopping != nil || self.train.keepBest) && self.data.validation == nil {
            throw LoupeError.config(key: self.train.earlyStopping != nil ? "train.early_stopping" : "train.keep_best",
                                    message: "watches validation evaluations: set data.validation (e.g. 0.1) too")
        }
        self.tensorboard = try TensorBoardConfig(try top.reader("tensorboard", section: "tensorboard")
            ?? .empty(at: tree.source, path: "tensorboard", section: "tensorboard"), probes: probes)
        if case .scalar("true", _)? = top.child("inspect") {
            self.inspect = InspectConfig(steps: train.steps)
        } else {
            self.inspect = try top.reader("inspect", section: "inspect").map { try InspectConfig($0, steps: train.steps) }
        }
    }
}

extension TrialConfig {
    /// `model:` is a mapping, or the name of one of `models:` (named presets, so that whole
    /// models can be a sweep axis: `sweep: {model: [cnn, lstm]}`).
    static func modelReader(_ top: ConfigReader) throws -> ConfigReader? {
        // Any names are allowed: the presets' own keys are checked when one is read.
        let presets = try top.child("models").map { node in
            try ConfigReader(node, path: "models", allowed: { if case let .mapping(pairs, _) = node { pairs.map(\.key) } else { [] } }())
        }
        guard case let .scalar(name, source)? = top.child("model") else {
            return try top.reader("model", section: "model")
        }
        let names = presets?.pairs.map(\.key) ?? []
        guard let preset = presets?.child(name) else {
            var message = names.isEmpty ? "names a preset '\(name)', but the file has no models: section"
                : "names an unknown preset '\(name)' (models: \(names.joined(separator: ", ")))"
            if let suggestion = closestName(name, among: names) { message += "; did you mean '\(suggestion)'?" }
            throw LoupeError.config(key: "model", message: "\(message) (\(source))")
        }
        return try ConfigReader(preset, path: "models.\(name)", section: "model")
    }
}

/// `data:` — a catalog name (`dataset: cifar10-gray28`) or a `path` with its `format`;
/// `classes: [names]` lists the class folders in label order (see `DatasetSource.classes`).
public struct DataConfig: Sendable {
    public typealias Format = DatasetFormat
    public var dataset: String?
    public var path: String?
    public var format: Format
    public var channels: ImageChannels
    public var resize: ImageSize?
    /// `sequence: rows` reads each image as a sequence of its rows ([H, W·C]) for recurrent
    /// models; `none` (default) keeps images.
    public var sequence: SequenceMode
    public enum SequenceMode: String, Sendable, CaseIterable { case none, rows }
    public var classes: [String]?
    /// `validation: 0.1`: that share of the training split held out (a seeded draw, the same
    /// for every trial of the data setting, from `validation_seed`) to measure validation loss
    /// and accuracy at each evaluation; training never sees it, and tuning need not look at the
    /// test split.
    public var validation: Double?
    public var validationSeed: UInt64

    init(_ r: ConfigReader) throws {
        dataset = try r.string("dataset")
        path = try r.string("path")
        if dataset == nil && path == nil { throw r.fail("dataset", "is missing: give data.dataset (a catalog name) or data.path") }
        if dataset != nil && path != nil { throw r.fail("path", "cannot be given together with data.dataset") }
        format = Format(rawValue: try r.string("format", default: "folder", oneOf: Format.allCases.map(\.rawValue))!)!
        switch try r.string("channels", default: "automatic", oneOf: ["automatic", "gray", "rgb"])! {
        case "gray": channels = .gray
        case "rgb": channels = .rgb
        default: channels = .automatic
        }
        if let sizes = try r.list("resize") {
            let values = try sizes.map { node -> Int in
                guard case let .scalar(text, _) = node, let v = Int(text), v > 0 else { throw r.fail("resize", "must be [height, width] of positive integers") }
                return v
            }
            guard values.count == 2 else { throw r.fail("resize", "must be [height, width]") }
            resize = ImageSize(height: values[0], width: values[1])
        }
        sequence = SequenceMode(rawValue: try r.string("sequence", default: "none", oneOf: SequenceMode.allCases.map(\.rawValue))!)!
        if let names = try r.stringList("classes") {
            if names.isEmpty || names.contains(where: \.isEmpty) { throw r.fail("classes", "must list the class names, in label order") }
            if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
                throw r.fail("classes", "names '\(twice)' twice")
            }
            classes = names
        }
        if let share = try r.float("validation", minimum: 0, maximum: 1, exclusiveMinimum: true) {
            guard share < 1 else { throw r.fail("validation", "must be a share of the training split between 0 and 1 (exclusive), e.g. 0.1") }
            validation = Double(try r.scalar("validation")!) ?? Double(share)
        }
        validationSeed = UInt64(try r.int("validation_seed", default: 0, minimum: 0)!)
        if r.has("validation_seed") && validation == nil { throw r.fail("validation_seed", "applies only with data.validation") }
    }
}

/// `model:` — a named builder (`builder: lenet`) or a list of layers.
public struct ModelConfig: Sendable {
    public var builder: String?
    public var keepProbability: Float
    public var layers: [LayerConfig]?
    static let builders = ["lenet"]

    init(_ r: ConfigReader) throws {
        builder = try r.string("builder", oneOf: Self.builders)
        keepProbability = try r.float("keep_probability", default: 0.5, minimum: 0, maximum: 1, exclusiveMinimum: true)!
        if let items = try r.list("layers") {
            layers = try items.enumerated().map { index, node in
                try LayerConfig(ConfigReader(node, path: r.key("layers.\(index)"), section: "model.layers[]"))
            }
            if layers!.isEmpty { throw r.fail("layers", "must list at least one layer") }
        }
        if builder == nil && layers == nil { throw r.fail("builder", "is missing: give model.builder (\(Self.builders.joined(separator: ", "))) or model.layers") }
        if builder != nil && layers != nil { throw r.fail("layers", "cannot be given together with model.builder") }
    }
}

/// One entry of `model.layers`.
public struct LayerConfig: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case conv2d, maxpool, dense, dropout, flatten, relu, tanh, sigmoid, rnn, lstm, gru }
    public var kind: Kind
    public var name: String?
    public var filters: Int?
    public var kernel: Int
    public var stride: Int
    public var padding: Padding
    public var units: Int?
    public var keepProbability: Float
    public var activation: Kind?
    public var weightInitializer: Initializer
    public var biasInitializer: Initializer
    /// Recurrent layers: whose conventions (`tf1`, `pytorch`), whether every step's state is
    /// returned, the LSTM's forget bias (default by variant).
    public var variant: RecurrentVariant
    public var returnSequences: Bool
    public var forgetBias: Float?
    static let recurrentKinds: [Kind] = [.rnn, .lstm, .gru]
    static let initializerNames = ["truncated_normal", "normal", "uniform", "glorot_uniform", "glorot_normal", "he_normal", "he_uniform",
                                   "zeros", "constant"]

    init(_ r: ConfigReader) throws {
        guard let type = try r.string("type", oneOf: Kind.allCases.map(\.rawValue)) else { throw r.fail("type", "is missing (one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))") }
        kind = Kind(rawValue: type)!
        name = try r.string("name")
        if let name, name.isEmpty || name.contains(".") { throw r.fail("name", "must be non-empty without '.'") }
        filters = try r.int("filters", minimum: 1)
        units = try r.int("units", minimum: 1)
        kernel = try r.int("kernel", default: kind == .maxpool ? 2 : 3, minimum: 1)!
        if kind == .maxpool, let size = try r.int("size", minimum: 1) { kernel = size }
        stride = try r.int("stride", default: kind == .maxpool ? kernel : 1, minimum: 1)!
        padding = Padding(rawValue: try r.string("padding", default: "same", oneOf: Padding.allCases.map(\.rawValue))!)!
        keepProbability = try r.float("keep_probability", default: 0.5, minimum: 0, maximum: 1, exclusiveMinimum: true)!
        activation = try r.string("activation", oneOf: ["relu", "tanh", "sigmoid"]).flatMap(Kind.init(rawValue:))
        weightInitializer = try Self.initializer(r, "weight_init", default: "glorot_uniform")
        biasInitializer = try Self.initializer(r, "bias_init", default: "zeros")
        variant = RecurrentVariant(rawValue: try r.string("variant", default: "tf1", oneOf: RecurrentVariant.allCases.map(\.rawValue))!)!
        returnSequences = try r.bool("return_sequences", default: false)
        forgetBias = kind == .lstm ? try r.float("forget_bias", default: LSTM.defaultForgetBias(variant)) : nil
        if kind == .conv2d && filters == nil { throw r.fail("filters", "is required for a conv2d layer") }
        if (kind == .dense || Self.recurrentKinds.contains(kind)) && units == nil { throw r.fail("units", "is required for a \(kind.rawValue) layer") }
        for key in ["variant", "return_sequences"] where r.has(key) && !Self.recurrentKinds.contains(kind) {
            throw r.fail(key, "applies to rnn, lstm and gru layers only, not \(kind.rawValue)")
        }
        if r.has("forget_bias") && kind != .lstm { throw r.fail("forget_bias", "applies to lstm layers only, not \(kind.rawValue)") }
        if Self.recurrentKinds.contains(kind) && (r.has("weight_init") || r.has("bias_init")) {
            throw r.fail(r.has("weight_init") ? "weight_init" : "bias_init", "a \(kind.rawValue) layer's initial weights follow its variant (tf1 or pytorch)")
        }
    }

    /// `0.1` (a constant), a name (`glorot_uniform`, `he_normal`, `zeros`, …) or
    /// `{name: truncated_normal, std: 0.1}`.
    static func initializer(_ r: ConfigReader, _ key: String, default value: String) throws -> Initializer {
        let node = r.child(key, default: .scalar(value, r.node.source))
        let names = initializerNames
        let name: String
        let reader: ConfigReader
        switch node {
        case let .scalar(text, source):
            if let constant = Float(text) { return .constant(constant) }
            name = text
            // A name alone takes the mapping's defaults.
            reader = .empty(at: source, path: r.key(key), section: "initializer")
        case .mapping:
            reader = try ConfigReader(node, path: r.key(key), section: "initializer")
            guard let n = try reader.string("name") else { throw reader.fail("name", "is missing") }
            name = n
        case .sequence:
            throw r.fail(key, "must be a number, an initializer name or {name: …, std: …}")
        }
        guard names.contains(name) else {
            var message = "unknown initializer '\(name)' (known: \(names.joined(separator: ", ")))"
            if let s = closestName(name, among: names) { message += "; did you mean '\(s)'?" }
            throw r.fail(key, message)
        }
        let std = try reader.float("std", default: 0.1, minimum: 0, exclusiveMinimum: true)!
        let mean = try reader.float("mean", default: 0)!
        switch name {
        case "truncated_normal": return .truncatedNormal(mean: mean, standardDeviation: std)
        case "normal": return .normal(mean: mean, standardDeviation: std)
        case "uniform": return .uniform(lowerBound: try reader.float("min", default: -0.05)!, upperBound: try reader.float("max", default: 0.05)!)
        case "glorot_uniform": return .glorotUniform
        case "glorot_normal": return .glorotNormal
        case "he_normal": return .heNormal
        case "he_uniform": return .heUniform
        case "constant": return .constant(try reader.float("value", default: 0)!)
        default: return .zeros
        }
    }
}

/// `train:` — steps, batching, logging, checkpoints, seed.
public struct TrainConfig: Sendable {
    public var steps: Int
    public var batchSize: Int
    public var logEvery: Int
    public var evalEvery: Int
    public var checkpointEvery: Int
    public var seed: UInt64
    public var sampling: SamplingMode
    /// `epochs: N`, instead of `steps`: N passes' worth of batches over the training split
    /// (`steps` = ⌈N · examples / batch_size⌉, fixed when the data is read).
    public var epochs: Int?
    /// `early_stopping: {metric: val_loss, patience: 5, min_delta: 0}`: stop when the validation
    /// metric has not improved by more than `min_delta` for `patience` evaluations in a row.
    public var earlyStopping: EarlyStopping?
    /// `keep_best: true`: the weights of the best validation evaluation are the trial's final
    /// weights (Keras' `restore_best_weights`); the metric is early stopping's, else `val_loss`.
    public var keepBest: Bool

    public struct EarlyStopping: Sendable, Equatable {
        public enum Metric: String, Sendable, CaseIterable { case validationLoss = "val_loss", validationAccuracy = "val_accuracy" }
        public var metric: Metric
        public var patience: Int
        public var minimumDelta: Double
    }

    /// The metric `keep_best` and early stopping watch.
    public var watchedMetric: EarlyStopping.Metric { earlyStopping?.metric ?? .validationLoss }

    init(_ r: ConfigReader) throws {
        steps = try r.int("steps", default: 300, minimum: 1)!
        batchSize = try r.int("batch_size", default: 50, minimum: 1)!
        logEvery = try r.int("log_every", default: 10, minimum: 1)!
        evalEvery = try r.int("eval_every", default: 0, minimum: 0)!
        checkpointEvery = try r.int("checkpoint_every", default: 100, minimum: 0)!
        seed = UInt64(try r.int("seed", default: 0, minimum: 0)!)
        switch try r.string("sampling", default: "with_replacement", oneOf: ["with_replacement", "epochs"])! {
        case "epochs": sampling = .epochs(dropRemainder: false)
        default: sampling = .withReplacement
        }
        epochs = try r.int("epochs", minimum: 1)
        if epochs != nil && r.has("steps") { throw r.fail("epochs", "cannot be given together with train.steps: give one") }
        if let stopping = try r.reader("early_stopping", section: "train.early_stopping") {
            let metric = EarlyStopping.Metric(rawValue: try stopping.string("metric", default: "val_loss", oneOf: EarlyStopping.Metric.allCases.map(\.rawValue))!)!
            earlyStopping = EarlyStopping(metric: metric, patience: try stopping.int("patience", default: 5, minimum: 1)!,
                                          minimumDelta: Double(try stopping.float("min_delta", default: 0, minimum: 0)!))
        }
        keepBest = try r.bool("keep_best", default: false)
        if (earlyStopping != nil || keepBest) && evalEvery == 0 {
            throw r.fail(earlyStopping != nil ? "early_stopping" : "keep_best", "needs train.eval_every, the evaluations it watches")
        }
    }

    /// The steps to run for `trainingExamples` examples (`epochs` resolved).
    public func resolvedSteps(trainingExamples: Int) -> Int {
        guard let epochs else { return steps }
        return max(1, (epochs * trainingExamples + batchSize - 1) / batchSize)
    }
}

/// `optimizer:` — the rule, its hyper-parameters (Keras names in snake_case), the schedule.
public struct OptimizerConfig: Sendable {
    public static let names = ["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"]
    public var name: String
    public var learningRate: Float
    public var variant: OptimizerVariant
    public var momentum: Float?
    public var nesterov: Bool
    public var beta1: Float, beta2: Float
    public var epsilon: Float?
    public var rho: Float?
    public var centered: Bool
    public var initialAccumulatorValue: Float?
    public var weightDecay: Float?
    public var clipNorm: Float?
    public var schedule: ScheduleConfig

    init(_ r: ConfigReader) throws {
        guard let name = try r.string("name", oneOf: Self.names) else { throw r.fail("name", "is missing (one of \(Self.names.joined(separator: ", ")))") }
        self.name = name
        guard let lr = try r.float("lr", minimum: 0) else { throw r.fail("lr", "is missing") }
        learningRate = lr
        variant = OptimizerVariant(rawValue: try r.string("variant", default: "tf1", oneOf: OptimizerVariant.allCases.map(\.rawValue))!)!
        // The hyper-parameters a rule has default to the rule's own values for its variant
        // (LoupeNN's), read from the rule made with none given, so the defaults applied are reported.
        let defaults = Self.defaults(of: Self.rule(name, learningRate: lr, variant: variant))
        momentum = try r.float("momentum", default: defaults.momentum, minimum: 0, maximum: 1)
        nesterov = try r.bool("nesterov", default: false)
        beta1 = try r.float("beta1", default: 0.9, minimum: 0, maximum: 1)!
        beta2 = try r.float("beta2", default: 0.999, minimum: 0, maximum: 1)!
        epsilon = try r.float("epsilon", default: defaults.epsilon, minimum: 0)
        rho = try r.float("rho", default: defaults.rho, minimum: 0, maximum: 1)
        centered = try r.bool("centered", default: false)
        initialAccumulatorValue = try r.float("initial_accumulator_value", default: defaults.initialAccumulatorValue, minimum: 0)
        weightDecay = try r.float("weight_decay", default: defaults.weightDecay, minimum: 0)
        clipNorm = try r.float("clip_norm", minimum: 0, exclusiveMinimum: true)
        schedule = try ScheduleConfig(r.reader("schedule", section: "optimizer.schedule"), learningRate: lr)
        if r.has("momentum") && !["momentum", "rmsprop"].contains(name) { throw r.fail("momentum", "applies to momentum and rmsprop only, not \(name)") }
    }

    /// A fresh optimizer following these settings.
    public func make() -> any Optimizer {
        Self.rule(name, learningRate: learningRate, variant: variant, momentum: momentum, nesterov: nesterov, beta1: beta1, beta2: beta2,
                  epsilon: epsilon, rho: rho, centered: centered, initialAccumulatorValue: initialAccumulatorValue, weightDecay: weightDecay)
    }

    /// The rule `name`; a hyper-parameter not given takes the rule's default.
    static func rule(_ name: String, learningRate: Float, variant: OptimizerVariant, momentum: Float? = nil, nesterov: Bool = false,
                     beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float? = nil, rho: Float? = nil, centered: Bool = false,
                     initialAccumulatorValue: Float? = nil, weightDecay: Float? = nil) -> any Optimizer {
        let decay = weightDecay ?? 0
        switch name {
        case "sgd": return SGD(learningRate: learningRate, weightDecay: decay)
        case "momentum": return Momentum(learningRate: learningRate, momentum: momentum ?? 0.9, nesterov: nesterov, weightDecay: decay, variant: variant)
        case "adagrad": return Adagrad(learningRate: learningRate, initialAccumulatorValue: initialAccumulatorValue, epsilon: epsilon, weightDecay: decay, variant: variant)
        case "rmsprop": return RMSProp(learningRate: learningRate, rho: rho, momentum: momentum ?? 0, epsilon: epsilon, centered: centered, weightDecay: decay, variant: variant)
        case "adamw": return AdamW(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon ?? 1e-8, weightDecay: weightDecay ?? 0.01, variant: variant)
        default: return Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon ?? 1e-8, weightDecay: decay, variant: variant)
        }
    }

    /// The hyper-parameters `rule` has (nil: one it does not have).
    static func defaults(of rule: any Optimizer) -> (momentum: Float?, epsilon: Float?, rho: Float?, initialAccumulatorValue: Float?, weightDecay: Float?) {
        switch rule {
        case let rule as Momentum: return (rule.momentum, nil, nil, nil, rule.weightDecay)
        case let rule as RMSProp: return (rule.momentum, rule.epsilon, rule.rho, nil, rule.weightDecay)
        case let rule as Adagrad: return (nil, rule.epsilon, nil, rule.initialAccumulatorValue, rule.weightDecay)
        case let rule as Adam: return (nil, rule.epsilon, nil, nil, rule.weightDecay)
        case let rule as SGD: return (nil, nil, nil, nil, rule.weightDecay)
        default: return (nil, nil, nil, nil, nil)
        }
    }
}

/// `optimizer.schedule:` — constant (default), step, exponential, cosine; `warmup_steps` in front of any.
public struct ScheduleConfig: Sendable {
    public var schedule: any LearningRateSchedule
    static let names = ["constant", "step", "exponential", "cosine"]

    init(_ r: ConfigReader?, learningRate: Float) throws {
        guard let r else {
            schedule = ConstantSchedule(learningRate)
            return
        }
        let name = try r.string("name", default: "constant", oneOf: Self.names)!
        var base: any LearningRateSchedule
        switch name {
        case "step":
            base = try StepSchedule(initial: learningRate, factor: try r.float("factor", default: 0.1, minimum: 0)!, every: try r.int("every", default: 1000, minimum: 1)!)
        case "exponential":
            base = try ExponentialSchedule(initial: learningRate, decayRate: try r.float("decay_rate", default: 0.96, minimum: 0)!,
                                           decaySteps: try r.int("decay_steps", default: 1000, minimum: 1)!, staircase: try r.bool("staircase", default: false))
        case "cosine":
            base = try CosineSchedule(initial: learningRate, decaySteps: try r.int("decay_steps", default: 1000, minimum: 1)!,
                                      alpha: try r.float("alpha", default: 0, minimum: 0, maximum: 1)!)
        default:
            base = ConstantSchedule(learningRate)
        }
        let warmup = try r.int("warmup_steps", default: 0, minimum: 0)!
        if warmup > 0 {
            base = try LinearWarmupSchedule(warmupSteps: warmup, then: base)
        }
        schedule = base
    }
}

/// `probes:` — activation statistics of named layers, confusion matrix.
public struct ProbeConfig: Sendable {
    public var activations: [String]
    public var confusion: Bool

    init(_ r: ConfigReader) throws {
        activations = try r.stringList("activations", default: [])
        confusion = try r.bool("confusion", default: false)
    }
}

/// `tensorboard:` — what the event files hold beyond the scalars, the HParams session and, at
/// the end, the weights' histograms and the first layer's filters. `histogram_every: N` (default
/// 0, off) adds, every N steps, histograms of the weights, of the step's gradients and of the
/// activations at `activations` (layer names, default `probes.activations`; measured on the
/// first 100 test examples in evaluation mode), and the first layer's filters as an image.
public struct TensorBoardConfig: Sendable {
    public var histogramEvery: Int
    public var activations: [String]

    init(_ r: ConfigReader, probes: ProbeConfig) throws {
        histogramEvery = try r.int("histogram_every", default: 0, minimum: 0)!
        activations = try r.stringList("activations", default: probes.activations)
    }
}
