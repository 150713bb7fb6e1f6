/// A trial's random numbers, one independent Philox stream per purpose, named.
///
/// Every stream is `RandomGenerator(seed: seed, stream: number(purpose))`, where the stream number
/// is the 64-bit FNV-1a hash of the purpose's UTF-8 name. A purpose is a name, not a position
/// in a list, so adding a purpose, a layer or a trial never shifts another's numbers:
///
/// - `sampling`: which examples each batch holds (the batcher);
/// - `init/<layer>`: a layer's initial weights (`init/conv1`);
/// - `dropout/<layer>`: a dropout layer's masks (`dropout/dropout`).
///
/// The purposes' names are part of the results: renaming one changes its numbers.
public struct RandomStreams: Sendable, Equatable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The stream for `purpose`, at its start.
    public func generator(_ purpose: String) -> RandomGenerator {
        RandomGenerator(seed: seed, stream: Self.number(purpose))
    }

    /// The batcher's stream.
    public var sampling: RandomGenerator { generator("sampling") }

    /// The stream that initialises the weights of the layer named `layer`.
    public func initialization(of layer: String) -> RandomGenerator { generator("init/\(layer)") }

    /// The stream of the dropout layer named `layer`.
    public func dropout(of layer: String) -> RandomGenerator { generator("dropout/\(layer)") }

    /// FNV-1a, 64 bits, over the UTF-8 bytes of `purpose`: stable across platforms and releases.
    public static func number(_ purpose: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in purpose.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}

extension RandomGenerator {
    /// The state as text, its 11 words separated by commas (checkpoint metadata).
    public var stateText: String { state.map(String.init).joined(separator: ",") }

    /// A generator from `stateText`; throws when the text is not 11 words with a valid position.
    public init(stateText text: String) throws {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        let words = fields.compactMap { UInt32($0) }
        guard words.count == fields.count else {
            throw LoupeError.invalidArgument(name: "RandomGenerator.state", message: "'\(text.prefix(80))' is not a list of 32-bit words")
        }
        try self.init(state: words)
    }
}
