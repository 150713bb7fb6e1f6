import LoupeCore
import LoupeData
import LoupeNN

extension ModelConfig {
    /// The model for images of `shape` and `classes` classes, initialised from `seed`'s
    /// initialization stream (dropout layers get its dropout stream).
    public func make(imageShape shape: ImageShape, classes: Int, seed: UInt64) throws -> Sequential {
        if builder == "lenet" {
            return try lenet(seed: seed, imageSize: (shape.height, shape.width), channels: shape.channels,
                             classes: classes, keepProbability: keepProbability)
        }
        var generator = RandomGenerator(seed: seed, stream: RandomStream.initialization)
        var layers: [(name: String, layer: any Layer)] = []
        var counts: [LayerConfig.Kind: Int] = [:]
        // The shape flowing through the list: [H, W, C] before flatten, [features] after.
        var current = [shape.height, shape.width, shape.channels]
        func name(_ kind: LayerConfig.Kind, _ given: String?) -> String {
            counts[kind, default: 0] += 1
            return given ?? "\(kind.rawValue)\(counts[kind]!)"
        }
        func activation(_ kind: LayerConfig.Kind?, after owner: String) {
            switch kind {
            case .relu?: layers.append(("\(owner)_relu", ReLU()))
            case .tanh?: layers.append(("\(owner)_tanh", Tanh()))
            case .sigmoid?: layers.append(("\(owner)_sigmoid", Sigmoid()))
            default: break
            }
        }
        for (index, spec) in (self.layers ?? []).enumerated() {
            let key = "model.layers.\(index)"
            switch spec.kind {
            case .conv2d:
                guard current.count == 3 else { throw LoupeError.config(key: key, message: "conv2d needs an image input, but it follows flatten") }
                let layerName = name(.conv2d, spec.name)
                let conv = Conv2D(filterShape: (spec.kernel, spec.kernel, current[2], spec.filters!), strides: (spec.stride, spec.stride),
                                  padding: spec.padding, weightInitializer: spec.weightInitializer,
                                  biasInitializer: spec.biasInitializer, generator: &generator)
                let g = try WindowGeometry(op: key, inputShape: [1] + current, kernel: (spec.kernel, spec.kernel),
                                           strides: (spec.stride, spec.stride), padding: spec.padding)
                current = [g.outputHeight, g.outputWidth, spec.filters!]
                layers.append((layerName, conv))
                activation(spec.activation, after: layerName)
            case .maxpool:
                guard current.count == 3 else { throw LoupeError.config(key: key, message: "maxpool needs an image input, but it follows flatten") }
                let g = try WindowGeometry(op: key, inputShape: [1] + current, kernel: (spec.kernel, spec.kernel),
                                           strides: (spec.stride, spec.stride), padding: spec.padding)
                current = [g.outputHeight, g.outputWidth, current[2]]
                layers.append((name(.maxpool, spec.name), MaxPool2D(poolSize: (spec.kernel, spec.kernel), strides: (spec.stride, spec.stride), padding: spec.padding)))
            case .flatten:
                current = [current.reduce(1, *)]
                layers.append((name(.flatten, spec.name), Flatten()))
            case .dense:
                if current.count != 1 {  // flatten implicitly, as Keras' Dense on a flat input expects
                    layers.append((name(.flatten, nil), Flatten()))
                    current = [current.reduce(1, *)]
                }
                let layerName = name(.dense, spec.name)
                layers.append((layerName, Dense(inputSize: current[0], outputSize: spec.units!, weightInitializer: spec.weightInitializer,
                                                biasInitializer: spec.biasInitializer, generator: &generator)))
                current = [spec.units!]
                activation(spec.activation, after: layerName)
            case .dropout:
                layers.append((name(.dropout, spec.name), try Dropout(keepProbability: spec.keepProbability,
                                                                     generator: RandomGenerator(seed: seed, stream: RandomStream.dropout &+ UInt64(index)))))
            case .relu: layers.append((name(.relu, spec.name), ReLU()))
            case .tanh: layers.append((name(.tanh, spec.name), Tanh()))
            case .sigmoid: layers.append((name(.sigmoid, spec.name), Sigmoid()))
            }
        }
        guard current == [classes] else {
            throw LoupeError.config(key: "model.layers", message: "the last layer gives \(current) values per image, but the dataset has \(classes) classes: end with a dense layer of \(classes) units")
        }
        return try Sequential(layers)
    }
}

extension Sequential {
    /// The layer whose output a probe named `name` reads: the named layer, or the activation right
    /// after it (so `conv1` reads activations after ReLU, before pooling, as the reference did).
    public func probeLayer(for name: String) throws -> String {
        guard let index = layers.firstIndex(where: { $0.name == name }) else {
            var message = "no layer named '\(name)'; the model has \(layers.map(\.name).joined(separator: ", "))"
            if let suggestion = closest(name, among: layers.map(\.name)) { message += "; did you mean '\(suggestion)'?" }
            throw LoupeError.config(key: "probes.activations", message: message)
        }
        if index + 1 < layers.count, layers[index + 1].layer is ReLU || layers[index + 1].layer is Tanh || layers[index + 1].layer is Sigmoid {
            return layers[index + 1].name
        }
        return name
    }
}
