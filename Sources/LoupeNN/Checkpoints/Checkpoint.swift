import Foundation
import LoupeCore

/// A model's weights in a safetensors file: tensors named as the parameters (`conv1.weight`
/// HWIO, `fc1.weight` [in, out], `*.bias`), plus string metadata.
///
/// Loading validates everything (names, shapes, dtypes, offsets) before it changes anything, so
/// a bad file leaves the model as it was. A training checkpoint (weights, optimizer, generators,
/// the batcher's position) is LoupeLab's `TrialState`, which uses `validate` below.
public enum Checkpoint {
    public static func saveWeights(of model: any Layer, to url: URL, metadata: [String: String] = [:]) throws {
        try Safetensors.write(model.namedParameters().map { ($0.name, $0.parameter.value) }, metadata: metadata, to: url)
    }

    /// Loads weights into `model`; every parameter must be in the file with its shape, and the
    /// file must hold nothing else.
    @discardableResult
    public static func loadWeights(into model: any Layer, from url: URL) throws -> [String: String] {
        let (tensors, metadata) = try Safetensors.read(url)
        let parameters = model.namedParameters()
        try validate(tensors, against: parameters, path: url.path)
        for p in parameters { p.parameter.value = tensors[p.name]! }
        return metadata
    }

    /// Checks that `tensors` hold exactly `parameters`, each with its shape; `path` names the file.
    public static func validate(_ tensors: [String: Tensor], against parameters: [NamedParameter], path: String) throws {
        let expected = Set(parameters.map(\.name))
        let missing = parameters.map(\.name).filter { tensors[$0] == nil }
        let unexpected = tensors.keys.filter { !expected.contains($0) }.sorted()
        guard missing.isEmpty && unexpected.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("not in the model: \(unexpected.joined(separator: ", "))") }
            throw LoupeError.file(path: path, message: "does not match the model: " + parts.joined(separator: "; "))
        }
        for p in parameters where tensors[p.name]!.shape != p.parameter.shape {
            throw LoupeError.file(path: path, message: "\(p.name) has shape \(tensors[p.name]!.shape) but the model's is \(p.parameter.shape)")
        }
    }
}
