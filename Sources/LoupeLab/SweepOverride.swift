import LoupeCore

/// `--set KEY=VALUE` on a key the sweep varies. Applied as a plain setting, the sweep's values
/// would still win in every trial and the override would be ignored without a word, so instead
/// the override replaces that axis: a single value fixes the key in every trial (the axis goes),
/// a list (`--set optimizer.lr=[0.1,0.01]`) becomes the axis's new values. `train.seed` is the
/// axis `sweep.seeds`. Entries of `sweep.include` that set the key lose it, so the override holds
/// there too. Each replacement is said in a note.
enum SweepOverride {
    static func apply(key: String, value: ConfigNode, to tree: ConfigNode) -> (tree: ConfigNode, notes: [String]) {
        guard key != "sweep", !key.hasPrefix("sweep."), case let .mapping(axes, sweepSource)? = tree.value(at: "sweep") else {
            return (tree.setting(key, to: value), [])
        }
        let axis = key == "train.seed" ? "seeds" : key
        let shown = "--set \(key)=\(Experiment.text(of: value))"
        var notes: [String] = []
        var pairs = axes
        var result = tree
        if let index = pairs.firstIndex(where: { $0.key == axis }) {
            let old = Experiment.text(of: pairs[index].value)
            if case let .sequence(items, _) = value, !items.isEmpty {
                pairs[index].value = value
                notes.append("\(shown) replaces the values of the sweep's axis \(axis) (\(old))")
            } else {
                pairs.remove(at: index)
                result = result.setting(key, to: value)
                notes.append("\(shown) replaces the sweep's axis \(axis) (\(old)): every trial has \(key)=\(Experiment.text(of: value))")
            }
        } else {
            result = result.setting(key, to: value)
        }
        if let index = pairs.firstIndex(where: { $0.key == "include" }), case let .sequence(entries, source) = pairs[index].value {
            var changed = 0
            let kept = entries.compactMap { entry -> ConfigNode? in
                guard case let .mapping(settings, entrySource) = entry, settings.contains(where: { $0.key == key }) else { return entry }
                changed += 1
                let rest = settings.filter { $0.key != key }
                return rest.isEmpty ? nil : .mapping(rest, entrySource)
            }
            if changed > 0 {
                pairs[index].value = .sequence(kept, source)
                notes.append("\(shown) also replaces \(key) in \(changed) entr\(changed == 1 ? "y" : "ies") of sweep.include")
            }
        }
        guard !notes.isEmpty else { return (result, []) }
        // A sweep left with no axis is dropped, so experiment.yaml reads as a plain experiment.
        guard !pairs.isEmpty else { return (result.removing("sweep"), notes) }
        return (result.replacing("sweep", with: .mapping(pairs, sweepSource)), notes)
    }
}

extension ConfigNode {
    /// This mapping without the top-level `key`.
    func removing(_ key: String) -> ConfigNode {
        guard case let .mapping(pairs, source) = self else { return self }
        return .mapping(pairs.filter { $0.key != key }, source)
    }

    /// This mapping with the top-level `key`'s value replaced (kept in its place).
    func replacing(_ key: String, with value: ConfigNode) -> ConfigNode {
        guard case let .mapping(pairs, source) = self else { return self }
        return .mapping(pairs.map { $0.key == key ? (key, value) : $0 }, source)
    }
}
