import LoupeCore
import LoupeData
import LoupeNN

extension ModelConfig {
    /// The model for examples of `sampleShape` (`[H, W, C]` images, `[T, F]` sequences) and `classes` classes,
    /// checked against that shape: each layer's weights come from its own stream
    /// (`init/<layer name>`), each dropout layer's masks from `dropout/<layer name>`.
    public func make(sampleShape: [Int], classes: Int, streams: RandomStreams) throws -> Sequential {
        let model = try build(sampleShape: sampleShape, classes: classes, streams: streams)
        let output: [Int]
        do { output = try model.outputShape(forSample: sampleShape) } catch let error as LoupeError {
            throw LoupeError.config(key: "model", message: "does not fit the data's examples of shape \(sampleShape): \(error)")
        }
        guard output == [classes] else {
            throw LoupeError.config(key: "model", message: "gives \(output) values per example, but the dataset has \(classes) classes")
        }
        return model
    }

    private func build(sampleShape: [Int], classes: Int, streams: RandomStreams) throws -> Sequential {
        guard sampleShape.count == 3 || (sampleShape.count == 2 && builder == nil) else {
            throw LoupeError.config(key: "model", message: "takes images [height, width, channels], but the data's examples are \(sampleShape)")
        }
        if builder == "lenet" {
            return try lenet(streams: streams, imageSize: (sampleShape[0], sampleShape[1]), channels: sampleShape[2],
                             classes: classes, keepProbability: keepProbability)
        }
        var layers: [(name: String, layer: any Layer)] = []
        var counts: [LayerConfig.Kind: Int] = [:]
        // The shape flowing through the list: [H, W, C] before flatten, [features] after; [T, F]
        // for sequences (an image reaching a recurrent layer is read as its rows, [H, W·C]).
        var current = sampleShape
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
                guard current.count == 3 else { throw LoupeError.config(key: key, message: "conv2d needs an image input [height, width, channels], but gets \(current)") }
                let layerName = name(.conv2d, spec.name)
                var generator = streams.initialization(of: layerName)
                let conv = Conv2D(filterShape: (spec.kernel, spec.kernel, current[2], spec.filters!), strides: (spec.stride, spec.stride),
                                  padding: spec.padding, weightInitializer: spec.weightInitializer,
                                  biasInitializer: spec.biasInitializer, generator: &generator)
                let g = try WindowGeometry(op: key, inputShape: [1] + current, kernel: (spec.kernel, spec.kernel),
                                           strides: (spec.stride, spec.stride), padding: spec.padding)
                current = [g.outputHeight, g.outputWidth, spec.filters!]
                layers.append((layerName, conv))
                activation(spec.activation, after: layerName)
            case .maxpool:
                guard current.count == 3 else { throw LoupeError.config(key: key, message: "maxpool needs an image input [height, width, channels], but gets \(current)") }
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
                var generator = streams.initialization(of: layerName)
                layers.append((layerName, Dense(inputSize: current[0], outputSize: spec.units!, weightInitializer: spec.weightInitializer,
                                                biasInitializer: spec.biasInitializer, generator: &generator)))
                current = [spec.units!]
                activation(spec.activation, after: layerName)
            case .dropout:
                let layerName = name(.dropout, spec.name)
                layers.append((layerName, try Dropout(keepProbability: spec.keepProbability, generator: streams.dropout(of: layerName))))
            case .rnn, .lstm, .gru:
                guard current.count >= 2 else {
                    throw LoupeError.config(key: key, message: "\(spec.kind.rawValue) needs a sequence [steps, features] or an image, but gets \(current)")
                }
                let steps = current[0], features = current.dropFirst().reduce(1, *)
                let layerName = name(spec.kind, spec.name)
                var generator = streams.initialization(of: layerName)
                let units = spec.units!
                switch spec.kind {
                case .rnn: layers.append((layerName, SimpleRNN(inputSize: features, units: units, returnSequences: spec.returnSequences,
                                                               variant: spec.variant, generator: &generator)))
                case .lstm: layers.append((layerName, LSTM(inputSize: features, units: units, returnSequences: spec.returnSequences,
                                                           variant: spec.variant, forgetBias: spec.forgetBias, generator: &generator)))
                default: layers.append((layerName, GRU(inputSize: features, units: units, returnSequences: spec.returnSequences,
                                                       variant: spec.variant, generator: &generator)))
                }
                current = spec.returnSequences ? [steps, units] : [units]
            case .relu: layers.append((name(.relu, spec.name), ReLU()))
            case .tanh: layers.append((name(.tanh, spec.name), Tanh()))
            case .sigmoid: layers.append((name(.sigmoid, spec.name), Sigmoid()))
            }
        }
        guard current == [classes] else {
            throw LoupeError.config(key: "model.layers", message: "the last layer gives \(current) values per example, but the dataset has \(classes) classes: end with a dense layer of \(classes) units")
        }
        return try Sequential(layers)
    }
}
