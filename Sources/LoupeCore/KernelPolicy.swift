import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which kernels compute the two heavy kinds of work, as a value: a trial runs under one policy
/// and records it in its `summary.json`, since the kernels agree only to rounding.
///
/// - `convolution`: `direct` (Loupe's AVX-512 kernels, DirectConvolution.c) or `im2col`
///   (patches + BLAS). Environment variable `LOUPE_CONVOLUTION`.
/// - `products`: the dense layers' products, `native` (Loupe's AVX-512 short-product kernels) or
///   `blas` (OpenBLAS for every product). Environment variable `LOUPE_DENSE`.
///
/// The default has each on Loupe's kernels where the CPU has AVX-512 and on BLAS elsewhere. A
/// choice the CPU cannot honour (`direct` without AVX-512) is kept as asked and runs as
/// `effective` says; the summary records the effective policy.
public struct KernelPolicy: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Products: String, Sendable, Codable, CaseIterable {
        case native, blas
    }

    public var convolution: ConvolutionAlgorithm
    public var products: Products

    enum CodingKeys: String, CodingKey {
        case convolution
        case products = "dense"
    }

    public init(convolution: ConvolutionAlgorithm, products: Products) {
        self.convolution = convolution
        self.products = products
    }

    /// Loupe's own kernels where this CPU has AVX-512, BLAS for everything elsewhere.
    public static let automatic = KernelPolicy(
        convolution: ConvolutionAlgorithm.directSupported ? .direct : .im2col,
        products: ConvolutionAlgorithm.directSupported ? .native : .blas)

    /// What actually runs on this CPU: `direct` and `native` need AVX-512.
    public var effective: KernelPolicy {
        guard !ConvolutionAlgorithm.directSupported else { return self }
        return KernelPolicy(convolution: .im2col, products: .blas)
    }

    public var description: String { "convolution \(convolution.rawValue), dense \(products.rawValue)" }

    /// The policy `environment` asks for (`LOUPE_CONVOLUTION`, `LOUPE_DENSE`), starting from
    /// `automatic`, and a warning naming the variable for each value that is unknown or that this
    /// CPU cannot honour (that variable then keeps its automatic value).
    public static func fromEnvironment(_ environment: [String: String]) -> (policy: KernelPolicy, warnings: [String]) {
        var policy = automatic
        var warnings: [String] = []
        func read<Choice: RawRepresentable & CaseIterable>(_ variable: String, _: Choice.Type, needsAVX512: Choice) -> Choice?
        where Choice.RawValue == String {
            guard let value = environment[variable], !value.isEmpty else { return nil }
            guard let choice = Choice(rawValue: value) else {
                let known = Choice.allCases.map(\.rawValue).joined(separator: ", ")
                warnings.append("\(variable)=\(value) is not one of \(known); using the default")
                return nil
            }
            if choice.rawValue == needsAVX512.rawValue && !ConvolutionAlgorithm.directSupported {
                warnings.append("\(variable)=\(value) needs AVX-512, which this CPU lacks; using the default")
                return nil
            }
            return choice
        }
        if let choice = read("LOUPE_CONVOLUTION", ConvolutionAlgorithm.self, needsAVX512: .direct) { policy.convolution = choice }
        if let choice = read("LOUPE_DENSE", Products.self, needsAVX512: .native) { policy.products = choice }
        return (policy, warnings)
    }

    /// The process's policy, read once from its environment; each warning is printed on
    /// standard error, once.
    public static let process: KernelPolicy = {
        let (policy, warnings) = fromEnvironment(ProcessInfo.processInfo.environment)
        for warning in warnings {
            var line = "loupe: \(warning)\n"
            line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
        return policy
    }()

    @TaskLocal static var scoped: KernelPolicy?

    /// The policy in force: the innermost `run`'s, else `process`.
    public static var current: KernelPolicy { scoped ?? process }

    /// Runs `body` with this policy in force (on the calling thread; the ops read it there, before
    /// they hand work to other threads).
    public func run<R>(_ body: () throws -> R) rethrows -> R {
        try Self.$scoped.withValue(self, operation: body)
    }
}
