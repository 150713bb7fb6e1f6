// loupe-example: a two-layer network learns a synthetic problem with LoupeCore alone.
//
//   swift run -c release loupe-example [--steps N] [--seed S]
//
// Three interleaved spirals of 2-D points, one class each (a problem no linear model solves);
// a 2 → 64 → 3 network with tanh, softmax cross-entropy, plain gradient descent on the full
// batch. Prints the loss and accuracy as they improve.
import Foundation
import LoupeCore

func spirals(points perClass: Int, classes: Int, generator: inout RandomGenerator) -> (Tensor, [Int32]) {
    var xy: [Float] = []
    var labels: [Int32] = []
    for k in 0..<classes {
        for i in 0..<perClass {
            let r = Float(i) / Float(perClass)
            let angle = Float(k) * 2 * .pi / Float(classes) + r * 4 + 0.2 * generator.nextNormal()
            xy += [r * Foundation.cos(angle), r * Foundation.sin(angle)]
            labels.append(Int32(k))
        }
    }
    return (try! Tensor(shape: [perClass * classes, 2], scalars: xy), labels)
}

func accuracy(_ logits: Tensor, _ labels: [Int32]) -> Float {
    let values = logits.scalars, classes = logits.shape[1]
    var correct = 0
    for (row, label) in labels.enumerated() {
        let scores = values[(row * classes)..<((row + 1) * classes)]
        if scores.firstIndex(of: scores.max()!)! - row * classes == Int(label) { correct += 1 }
    }
    return Float(correct) / Float(labels.count)
}

func main() throws {
    var steps = 2000, seed: UInt64 = 0
    var arguments = CommandLine.arguments.dropFirst()
    while let flag = arguments.popFirst() {
        guard let value = arguments.popFirst() else { throw LoupeError.invalidArgument(name: flag, message: "needs a value") }
        switch flag {
        case "--steps":
            guard let v = Int(value), v > 0 else { throw LoupeError.invalidArgument(name: "--steps", message: "needs a positive integer, got \(value)") }
            steps = v
        case "--seed":
            guard let v = UInt64(value) else { throw LoupeError.invalidArgument(name: "--seed", message: "needs a non-negative integer, got \(value)") }
            seed = v
        default: throw LoupeError.invalidArgument(name: flag, message: "unknown flag; use --steps N or --seed S")
        }
    }
    var data = RandomGenerator(seed: seed, stream: 1), initial = RandomGenerator(seed: seed, stream: 0)
    let (x, labels) = spirals(points: 200, classes: 3, generator: &data)
    var parameters = [
        Tensor.truncatedNormal([2, 64], standardDeviation: 1, generator: &initial),
        Tensor.zeros([64]),
        Tensor.truncatedNormal([64, 3], standardDeviation: 0.1, generator: &initial),
        Tensor.zeros([3]),
    ]
    func logits(_ p: [Tensor]) throws -> Tensor {
        try matmul(tanh(try matmul(x, p[0]) + p[1]), p[2]) + p[3]
    }
    let learningRate: Float = 1.0
    print("step    loss    accuracy")
    let start = Date()
    for step in 0...steps {
        let (loss, gradients) = try valueAndGradient(at: parameters) { p in
            try softmaxCrossEntropy(logits: logits(p), labels: labels)
        }
        if step % (steps / 10) == 0 {
            let acc = accuracy(try logits(parameters), labels)
            print(String(format: "%5d  %6.3f    %.3f", step, loss.scalar, acc))
        }
        for i in parameters.indices {
            parameters[i] = try parameters[i] - gradients[i] * learningRate
        }
    }
    print(String(format: "%d steps in %.2f s", steps, Date().timeIntervalSince(start)))
}

do { try main() } catch {
    FileHandle.standardError.write(Data("loupe-example: \(error)\n".utf8))
    exit(1)
}
