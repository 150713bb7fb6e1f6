import LoupeCore

/// The reference LeNet-style CNN of EXPERIMENTS.md part 1 (the TensorFlow tutorial "Deep MNIST"
/// network), for [N, 28, 28, 1] inputs:
///
/// conv1 5x5 1→32 SAME + bias, ReLU, max-pool 2x2/2 → conv2 5x5 32→64 SAME + bias, ReLU, max-pool
/// 2x2/2 → flatten 3136 → fc1 1024 + ReLU → dropout (keep 0.5 while training) → fc2 10 (logits).
/// Weights truncated normal with std 0.1, biases 0.1. Parameters: conv1.weight [5, 5, 1, 32],
/// conv1.bias, conv2.weight [5, 5, 32, 64], conv2.bias, fc1.weight [3136, 1024], fc1.bias,
/// fc2.weight [1024, 10], fc2.bias. Activation probes: `relu1`, `relu2` (after ReLU, before pooling).
/// Each layer's weights come from its own stream of `seed` (`init/conv1`, …) and the dropout
/// masks from `dropout/dropout` (`RandomStreams`).
public func lenet(seed: UInt64, imageSize: (height: Int, width: Int) = (28, 28), channels: Int = 1,
                  classes: Int = 10, keepProbability: Float = 0.5) throws -> Sequential {
    try lenet(streams: RandomStreams(seed: seed), imageSize: imageSize, channels: channels, classes: classes,
              keepProbability: keepProbability)
}

/// The reference LeNet with its random numbers from `streams`.
public func lenet(streams: RandomStreams, imageSize: (height: Int, width: Int) = (28, 28), channels: Int = 1,
                  classes: Int = 10, keepProbability: Float = 0.5) throws -> Sequential {
    let weights = Initializer.truncatedNormal(standardDeviation: 0.1), biases = Initializer.constant(0.1)
    let flat = ((imageSize.height + 3) / 4) * ((imageSize.width + 3) / 4) * 64
    var conv1 = streams.initialization(of: "conv1"), conv2 = streams.initialization(of: "conv2")
    var fc1 = streams.initialization(of: "fc1"), fc2 = streams.initialization(of: "fc2")
    return try Sequential([
        ("conv1", Conv2D(filterShape: (5, 5, channels, 32), padding: .same, weightInitializer: weights,
                         biasInitializer: biases, generator: &conv1)),
        ("relu1", ReLU()),
        ("pool1", MaxPool2D(poolSize: (2, 2), padding: .same)),
        ("conv2", Conv2D(filterShape: (5, 5, 32, 64), padding: .same, weightInitializer: weights,
                         biasInitializer: biases, generator: &conv2)),
        ("relu2", ReLU()),
        ("pool2", MaxPool2D(poolSize: (2, 2), padding: .same)),
        ("flatten", Flatten()),
        ("fc1", Dense(inputSize: flat, outputSize: 1024, weightInitializer: weights, biasInitializer: biases, generator: &fc1)),
        ("relu3", ReLU()),
        ("dropout", Dropout(keepProbability: keepProbability, generator: streams.dropout(of: "dropout"))),
        ("fc2", Dense(inputSize: 1024, outputSize: classes, weightInitializer: weights, biasInitializer: biases, generator: &fc2)),
    ])
}
