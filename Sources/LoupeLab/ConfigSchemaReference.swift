/// `ConfigSchema` as a Markdown page: what `loupe keys` prints and `docs/experiment-keys.md`
/// holds (a test compares the two).
extension ConfigSchema {
    /// The command that regenerates the checked-in page.
    public static let regenerateCommand = "swift run -c release loupe keys > docs/experiment-keys.md"

    /// A small experiment file using most sections (a test checks that it parses).
    public static let example = """
        name: lenet-adam
        data: {dataset: mnist, validation: 0.1}
        model:
          layers:
            - {type: conv2d, name: conv1, filters: 32, kernel: 5, activation: relu}
            - {type: maxpool}
            - {type: flatten}
            - {type: dense, units: 10}
        train: {steps: 1000, eval_every: 100, early_stopping: {patience: 3}, keep_best: true}
        optimizer: {name: adam, lr: 1.0e-3, schedule: {name: cosine, decay_steps: 1000}}
        probes: {activations: [conv1], confusion: true}
        sweep:
          optimizer.lr: [1.0e-3, 3.0e-4]
          seeds: [0, 1]
        """

    /// The reference page: an introduction, the example, one table per section.
    public static var markdown: String {
        var lines = [
            "# Experiment-file keys",
            "",
            "<!-- Generated from Sources/LoupeLab/ConfigSchema.swift by `loupe keys`; regenerate with",
            "     `\(regenerateCommand)`. -->",
            "",
            "Every key an experiment file (YAML) may hold, mapping by mapping: the value it takes, its default",
            "and what it means. The readers take their allowed keys from the same schema, so a key missing",
            "here is refused (with the closest key suggested), and tests hold each default to the code.",
            "`--set key=value` sets any key from the command line; `sweep:` varies any of them.",
            "",
            "In the default column, a value is what an absent key means; **required** keys must be given;",
            "— is followed by what absence means; = names the key whose value is taken; \"by `key`\" gives",
            "the default for each value of another key of the same mapping.",
            "",
            "## A small complete example",
            "",
            "```yaml",
            example,
            "```",
        ]
        for section in sections {
            lines += ["", "## " + (section.path.isEmpty ? "Top level" : "`\(section.path)`"), "", section.about, "",
                      "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
            for key in section.keys {
                lines.append("| " + ["`\(key.name)`", key.type, "\(key.defaultValue)", key.meaning].map(cell).joined(separator: " | ") + " |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A table cell: a `|` would end it.
    private static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
