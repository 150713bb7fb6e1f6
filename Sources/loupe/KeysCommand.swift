import ArgumentParser
import LoupeLab

/// `loupe keys`: the experiment-file reference, generated from `ConfigSchema` (the same text
/// as docs/experiment-keys.md).
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every experiment-file key with its type, default and meaning (Markdown, as docs/experiment-keys.md).")

    func run() {
        print(ConfigSchema.markdown, terminator: "")
    }
}
