import Foundation
@_spi(ConfigRecording) import LoupeLab
import Testing

/// Small files that leave keys out, so the readers apply their defaults: every section, every
/// layer kind, every optimizer and variant, every schedule, a preset, `inspect: true`.
private let minimalFiles: [String] = [
    """
    data: {dataset: mnist}
    model: {builder: lenet}
    optimizer: {name: sgd, lr: 0.1}
    inspect: {}
    """,
    """
    data: {dataset: mnist, validation: 0.1}
    models: {small: {builder: lenet}}
    model: small
    train: {eval_every: 10, early_stopping: {}}
    optimizer: {name: momentum, lr: 0.1, schedule: {}}
    probes: {activations: [conv1]}
    inspect: true
    """,
    """
    data: {dataset: mnist}
    model:
      layers:
        - {type: conv2d, filters: 4}
        - {type: maxpool}
        - {type: maxpool, kernel: 3}
        - {type: relu}
        - {type: tanh}
        - {type: sigmoid}
        - {type: dropout}
        - {type: flatten}
        - {type: dense, units: 10, weight_init: {name: truncated_normal}, bias_init: {name: uniform}}
        - {type: dense, units: 10, weight_init: {name: constant}, bias_init: he_normal}
        - {type: rnn, units: 4}
        - {type: lstm, units: 4}
        - {type: lstm, units: 4, variant: pytorch}
        - {type: gru, units: 4}
    optimizer: {name: adam, lr: 0.1}
    """,
] + ["step", "exponential", "cosine"].map { "data: {dataset: mnist}\nmodel: {builder: lenet}\noptimizer: {name: sgd, lr: 0.1, schedule: {name: \($0)}}\n" }
  + ["adagrad", "rmsprop", "adamw"].flatMap { name in
        ["tf1", "pytorch"].map { "data: {dataset: mnist}\nmodel: {builder: lenet}\noptimizer: {name: \(name), lr: 0.1, variant: \($0)}\n" }
    }

/// Files that give every documented key between them (a valid value each).
private let maximalFiles: [String] = [
    """
    name: everything
    data: {path: /nonexistent, format: idx, channels: gray, resize: [28, 28], sequence: none, classes: [a, b], validation: 0.1, validation_seed: 3}
    models: {other: {builder: lenet}}
    model: {builder: lenet, keep_probability: 0.4}
    train:
      steps: 10
      batch_size: 5
      log_every: 1
      eval_every: 5
      checkpoint_every: 5
      seed: 1
      sampling: epochs
      early_stopping: {metric: val_accuracy, patience: 2, min_delta: 0.01}
      keep_best: true
    optimizer:
      name: rmsprop
      lr: 0.1
      variant: pytorch
      momentum: 0.5
      nesterov: false
      beta1: 0.8
      beta2: 0.99
      epsilon: 1.0e-7
      rho: 0.8
      centered: true
      initial_accumulator_value: 0.2
      weight_decay: 0.01
      clip_norm: 1
      schedule: {name: step, factor: 0.5, every: 10, decay_rate: 0.9, decay_steps: 10, staircase: true, alpha: 0.1, warmup_steps: 2}
    probes: {activations: [conv1], confusion: true}
    tensorboard: {histogram_every: 5, activations: [conv1]}
    inspect:
      what: [top9, deconv]
      layers: [conv1]
      maps: 1
      top: 4
      images: [0, 3]
      limit: 10
      snapshots: [1, 5]
      evolution_maps: 2
      occlusion: {size: 3, stride: 2, fill: 0.5}
    sweep:
      optimizer.lr: [0.1, 0.2]
      include: [{optimizer.lr: 0.3}]
      seeds: [0, 1]
    reference:
      - {optimizer.lr: 0.1, test_accuracy: 0.5, source: a paper}
    """,
    """
    data: {dataset: mnist}
    model:
      layers:
        - {type: conv2d, name: conv1, filters: 4, kernel: 5, stride: 2, padding: valid, activation: relu,
           weight_init: {name: normal, std: 0.2, mean: 0.1}, bias_init: {name: uniform, min: -0.1, max: 0.1}}
        - {type: maxpool, size: 2}
        - {type: dropout, keep_probability: 0.7}
        - {type: flatten}
        - {type: dense, units: 4, weight_init: {name: constant, value: 0.5}, bias_init: 0.1}
        - {type: lstm, units: 4, variant: pytorch, return_sequences: true, forget_bias: 0.5}
        - {type: gru, units: 4}
    train: {epochs: 2}
    optimizer: {name: adam, lr: 0.1}
    """,
]

/// Sections whose keys are not a fixed list a `ConfigReader` checks: names of presets, sweep
/// axes, reference settings (read by `TrialConfig.modelReader`, `Sweep`, `ReferenceResult`).
private let freeFormSections: Set<String> = ["models", "sweep", "reference[]"]
/// Top-level keys read by that same code rather than a getter, so absence reports no default.
private let unreportedTopLevelKeys: Set<String> = ["models", "sweep", "reference"]

private func parse(_ text: String) throws -> (experiment: Experiment, events: [ConfigReadLog.Event]) {
    let (experiment, events) = try ConfigReadLog.recording { try Experiment.parse(text: text, path: "exp.yaml") }
    return (experiment, events)
}

/// The value given at a dotted path (list entries by index), as text: a scalar, or `[a, b]`.
private func given(_ path: String, in tree: ConfigNode) -> String? {
    var node = tree
    for part in path.split(separator: ".") {
        switch node {
        case let .mapping(pairs, _):
            guard let next = pairs.first(where: { $0.key == part })?.value else { return nil }
            node = next
        case let .sequence(items, _):
            guard let index = Int(part), items.indices.contains(index) else { return nil }
            node = items[index]
        case .scalar: return nil
        }
    }
    if case let .scalar(text, _) = node { return text }
    return node.yaml().trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Equal as YAML values: numbers as numbers (Float, as the readers hold them), else as text.
private func same(_ a: String?, _ b: String?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    if let x = Float(a), let y = Float(b) { return x == y }
    return a == b
}

private func schemaKey(_ section: String, _ key: String) -> SchemaKey? {
    ConfigSchema.sections.first { $0.path == section }?.keys.first { $0.name == key }
}

@Suite struct ConfigSchemaTests {
    /// What the schema says is applied for an absent key at `path`: a value, or nil (nothing:
    /// required, or absence has a meaning). `value(of:)` gives another key's value, given or defaulted.
    private func expected(_ stated: SchemaDefault, at path: String, value: (String) -> String?) -> String? {
        switch stated {
        case let .value(text): return text
        case .required, .absent: return nil
        case let .sameAs(key): return value(key.contains(".") ? key : path.isEmpty ? key : path + "." + key)
        case let .depending(key, cases, otherwise):
            let actual = value(path.isEmpty ? key : path + "." + key)
            if let match = cases.first(where: { same($0.value, actual) }) { return expected(match.then, at: path, value: value) }
            return otherwise.flatMap { expected($0, at: path, value: value) }
        }
    }

    @Test func everyDefaultTheReadersApplyIsTheSchemasStatedDefault() throws {
        var seen: Set<String> = []
        // Each disagreement once, however many files and places show it (with the first place).
        var disagreements: [String: String] = [:]
        for file in minimalFiles + maximalFiles {
            let tree = try ConfigNode.parse(yaml: file, file: "exp.yaml")
            let events = try parse(file).events
            var applied: [String: String?] = [:]
            for case let .defaulted(_, path, key, value) in events { applied[path.isEmpty ? key : path + "." + key] = value }
            let lookUp = { (full: String) -> String? in
                if let text = given(full, in: tree) { return text }
                return applied[full] ?? nil
            }
            for case let .defaulted(section, path, key, value) in events {
                guard let documented = schemaKey(section, key) else {
                    disagreements["\(section).\(key): a default is applied to a key the schema does not list"] = path
                    continue
                }
                seen.insert("\(section).\(key)")
                let stated = expected(documented.defaultValue, at: path, value: lookUp)
                if !same(value, stated) {
                    let message = """
                        \(section.isEmpty ? "" : section + ".")\(key): the reader applies \(value ?? "nothing"), \
                        the schema says \(stated ?? "nothing") (\(documented.defaultValue))
                        """
                    disagreements[message] = disagreements[message] ?? path
                }
            }
        }
        for (message, path) in disagreements.sorted(by: { $0.key < $1.key }) { Issue.record(Comment(rawValue: "\(message), first at \(path)")) }
        // Every key that is not required was left out somewhere, so each stated default was held to the code.
        for section in ConfigSchema.sections where !freeFormSections.contains(section.path) {
            for key in section.keys where !(section.path.isEmpty && unreportedTopLevelKeys.contains(key.name)) {
                if case .required = key.defaultValue { continue }
                #expect(seen.contains("\(section.path).\(key.name)"), "\(section.path).\(key.name): no test file leaves it out, so its default is unchecked")
            }
        }
    }

    @Test func everyDocumentedKeyIsAccepted() throws {
        var accepted: [String: Set<String>] = [:]
        var experiments: [Experiment] = []
        for file in maximalFiles {
            let (experiment, events) = try parse(file)
            experiments.append(experiment)
            for case let .given(section, _, key) in events { accepted[section, default: []].insert(key) }
        }
        for section in ConfigSchema.sections where !freeFormSections.contains(section.path) {
            let missing = Set(section.names).subtracting(accepted[section.path] ?? [])
            #expect(missing.isEmpty, "\(section.path): no test file gives \(missing.sorted())")
        }
        // The free-form sections: a preset, a sweep axis, include and seeds, a reference entry.
        #expect(ConfigSchema.section("sweep").names == ["<dotted key>", "include", "seeds"])
        #expect(ConfigSchema.section("reference[]").names == ["<dotted key>", "test_accuracy", "source"])
        #expect(experiments[0].trials.count == 6)
        let reference = try ReferenceResult.read(experiments[0].effective.value(at: "reference"))
        #expect(reference.map(\.settings) == [["optimizer.lr": "0.1"]] && reference.map(\.testAccuracy) == [0.5] && reference.map(\.source) == ["a paper"])
        #expect(try Experiment.parse(text: maximalFiles[0].replacingOccurrences(of: "model: {builder: lenet, keep_probability: 0.4}", with: "model: other"),
                                     path: "exp.yaml").trials.count == 6)
    }

    @Test func anUndocumentedKeyIsRefusedInEverySection() throws {
        // Where each section's mapping is, in the maximal files.
        let places: [String: (file: Int, path: String)] = [
            "": (0, ""), "data": (0, "data"), "model": (0, "model"), "model.layers[]": (1, "model.layers.0"),
            "initializer": (1, "model.layers.0.weight_init"), "train": (0, "train"), "train.early_stopping": (0, "train.early_stopping"),
            "optimizer": (0, "optimizer"), "optimizer.schedule": (0, "optimizer.schedule"), "probes": (0, "probes"),
            "tensorboard": (0, "tensorboard"), "inspect": (0, "inspect"), "inspect.occlusion": (0, "inspect.occlusion"),
        ]
        #expect(Set(places.keys) == Set(ConfigSchema.sections.map(\.path)).subtracting(freeFormSections))
        for (section, place) in places {
            let tree = try ConfigNode.parse(yaml: maximalFiles[place.file], file: "exp.yaml")
            let text = inserting("undocumented_key", at: place.path, in: tree).yaml()
            let full = place.path.isEmpty ? "undocumented_key" : place.path + ".undocumented_key"
            do {
                _ = try Experiment.parse(text: text, path: "exp.yaml")
                Issue.record("\(section): \(full) was accepted")
            } catch {
                #expect("\(error)".contains(full) && "\(error)".contains("unknown key"), "\(section): \(error)")
            }
        }
    }

    /// `tree` with `key: 1` added to the mapping at the dotted `path` (list entries by index).
    private func inserting(_ key: String, at path: String, in tree: ConfigNode) -> ConfigNode {
        let parts = path.split(separator: ".").map(String.init)
        guard let first = parts.first else {
            guard case let .mapping(pairs, source) = tree else { return tree }
            return .mapping(pairs + [(key, .scalar("1", source))], source)
        }
        let rest = parts.dropFirst().joined(separator: ".")
        switch tree {
        case let .mapping(pairs, source):
            return .mapping(pairs.map { $0.key == first ? ($0.key, inserting(key, at: rest, in: $0.value)) : $0 }, source)
        case let .sequence(items, source):
            return .sequence(items.enumerated().map { String($0.offset) == first ? inserting(key, at: rest, in: $0.element) : $0.element }, source)
        case .scalar:
            return tree
        }
    }

    @Test func theReferencePageIsTheGeneratedOne() throws {
        let url = repositoryRoot.appendingPathComponent("docs/experiment-keys.md")
        let file = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        let generated = ConfigSchema.markdown
        if file != generated {
            let fileLines = file.components(separatedBy: "\n"), generatedLines = generated.components(separatedBy: "\n")
            let first = zip(fileLines, generatedLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(fileLines.count, generatedLines.count)
            Issue.record("""
                docs/experiment-keys.md differs from the schema's reference (first at line \(first + 1)): regenerate it with
                \(ConfigSchema.regenerateCommand)
                """)
        }
    }

    @Test func loupeKeysPrintsThePage() throws {
        guard let loupe = loupeExecutable() else { return }
        let (status, output) = try runLoupe(loupe, ["keys"], data: FileManager.default.temporaryDirectory.path)
        #expect(status == 0 && output == ConfigSchema.markdown, "loupe keys exited \(status) and printed \(output.prefix(200))…")
    }

    @Test func theReferencesExampleParses() throws {
        let experiment = try Experiment.parse(text: ConfigSchema.example, path: "example.yaml")
        #expect(experiment.trials.count == 4 && experiment.trials[0].config.train.keepBest)
    }
}
