import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LoupeCore
import LoupeData
import LoupeLab
import LoupeNN
import Testing
@testable import LoupeInsight

/// A conv layer with the given HWIO weights and zero bias.
private func convolution(_ weights: [Float], _ shape: (Int, Int, Int, Int), padding: Padding = .same) throws -> Conv2D {
    var generator = RandomGenerator(seed: 1)
    let conv = Conv2D(filterShape: shape, padding: padding, generator: &generator)
    conv.weight.value = try Tensor(shape: [shape.0, shape.1, shape.2, shape.3], scalars: weights)
    conv.bias!.value = Tensor.zeros([shape.3])
    return conv
}

private func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.randomUniform(shape, lowerBound: low, upperBound: high, generator: &generator)
}

/// conv1 3×3 1→2, relu1, pool1 2×2, conv2 3×3 2→3, relu2, and with `head` a dense classifier.
private func tinyNetwork(head: Bool = false) throws -> Sequential {
    let conv1 = try convolution(random([3, 3, 1, 2], seed: 11).scalars, (3, 3, 1, 2))
    let conv2 = try convolution(random([3, 3, 2, 3], seed: 12).scalars, (3, 3, 2, 3))
    conv1.bias!.value = try Tensor(shape: [2], scalars: [0.05, -0.1])
    var layers: [(name: String, layer: any Layer)] = [
        ("conv1", conv1), ("relu1", ReLU()), ("pool1", MaxPool2D(poolSize: (2, 2), padding: .same)),
        ("conv2", conv2), ("relu2", ReLU()),
    ]
    if head {
        var generator = RandomGenerator(seed: 13)
        layers += [("flatten", Flatten()), ("fc1", Dense(inputSize: 3 * 3 * 3, outputSize: 5, generator: &generator)), ("relu3", ReLU()),
                   ("fc2", Dense(inputSize: 5, outputSize: 4, generator: &generator))]
    }
    return try Sequential(layers)
}

/// `count` random 8×8 gray images (6×6 for the tiny network's pool to be exact), labels cycling over 4 classes.
private func randomDataset(count: Int, size: Int = 6, seed: UInt64) throws -> Dataset {
    var generator = RandomGenerator(seed: seed)
    let pixels = (0..<(count * size * size)).map { _ in UInt8(generator.nextUInt32() % 256) }
    return try Dataset(pixels: pixels, labels: (0..<count).map { Int32($0 % 4) },
                       imageShape: ImageShape(height: size, width: size, channels: 1), classNames: ["a", "b", "c", "d"])
}

@Suite struct InspectionTests {
    @Test func deconvnetProjectionIsUnpoolReLUAndTransposedConvolution() throws {
        let model = try tinyNetwork()
        let network = try InspectableNetwork(model)
        let x = random([2, 6, 6, 1], seed: 5, low: 0, high: 1)
        let point = try network.featurePoint("conv2")
        #expect(point.index == 4)
        // The same way down, written out with LoupeCore's ops.
        let conv1 = model.layers[0].layer as! Conv2D, conv2 = model.layers[3].layer as! Conv2D
        let a1 = try conv2d(x, filter: conv1.weight.value, bias: conv1.bias!.value, padding: .same)
        let (p1, switches) = try maxPool2DWithSwitches(relu(a1), kernel: (2, 2), strides: (2, 2), padding: .same)
        let r2 = relu(try conv2d(p1, filter: conv2.weight.value, bias: conv2.bias!.value, padding: .same))
        // Image 1's strongest unit of map 2.
        let values = r2.scalars, perImage = 3 * 3 * 3
        let position = (0..<9).max { values[perImage + $0 * 3 + 2] < values[perImage + $1 * 3 + 2] }!
        #expect(values[perImage + position * 3 + 2] > 0, "the chosen unit must be active for the test to mean something")
        var signal = [Float](repeating: 0, count: r2.count)
        signal[perImage + position * 3 + 2] = values[perImage + position * 3 + 2]
        let s = try Tensor(shape: r2.shape, scalars: signal)
        let down2 = try conv2dTranspose(relu(s), filter: conv2.weight.value, outputShape: p1.shape, padding: .same)
        let down1 = try conv2dTranspose(relu(unpool2D(down2, switches: switches)), filter: conv1.weight.value, outputShape: x.shape, padding: .same)
        let expected = try split(down1)

        let projected = try network.projections(of: [(2, position / 3, position % 3), (2, position / 3, position % 3)], images: x, at: point)
        let mine = projected[1].scalars, theirs = expected[1].scalars
        #expect(mine.contains { $0 != 0 })
        for (a, b) in zip(mine, theirs) { #expect(abs(a - b) <= 1e-6, "\(a) vs \(b)") }
    }

    @Test func anEdgeDetectorProjectsToItsEdge() throws {
        // One filter, a vertical edge detector: dark on the left, bright on the right.
        let edge: [Float] = [-1, 0, 1, -1, 0, 1, -1, 0, 1]
        let network = try InspectableNetwork(try Sequential([("conv1", try convolution(edge, (3, 3, 1, 1))), ("relu1", ReLU())]))
        // An 8×8 image, black in columns 0–3 and white in 4–7, and rows that leave no border effect.
        var pixels = [Float](repeating: 0, count: 64)
        for y in 0..<8 { for x in 4..<8 { pixels[y * 8 + x] = 1 } }
        let image = try Tensor(shape: [1, 8, 8, 1], scalars: pixels)
        let trace = try network.trace(image)
        let output = trace.outputs[1].scalars
        // Units at columns 3 and 4 straddle the edge (3 each); row 3 is first among the interior rows.
        let best = output.indices.max { output[$0] < output[$1] || (output[$0] == output[$1] && $0 > $1) }!
        #expect(output[best] == 3)
        let (row, column) = (best / 8, best % 8)
        #expect(column == 3 || column == 4)
        let projection = try network.projections(of: [(0, row, column)], images: image, at: network.featurePoint("conv1"))[0].scalars
        // The unit's value times the filter, laid over its 3×3 window: the edge, dark left, bright right.
        for y in 0..<8 {
            for x in 0..<8 {
                let inside = abs(y - row) <= 1 && abs(x - column) <= 1
                let expected: Float = inside ? 3 * edge[(y - row + 1) * 3 + (x - column + 1)] : 0
                #expect(projection[y * 8 + x] == expected, "(\(y), \(x))")
            }
        }
    }

    @Test func theThreeReLURulesFollowTheirDefinitions() throws {
        let signal = try Tensor(shape: [6], scalars: [2, -1, 3, -4, 0, 5])
        let input = try Tensor(shape: [6], scalars: [1, 1, -1, -1, 2, 0])
        #expect(BackwardRule.deconvnet.throughReLU(signal, input: input).scalars == [2, 0, 3, 0, 0, 5])
        #expect(BackwardRule.saliency.throughReLU(signal, input: input).scalars == [2, -1, 0, 0, 0, 0])
        #expect(BackwardRule.guided.throughReLU(signal, input: input).scalars == [2, 0, 0, 0, 0, 0])
    }

    @Test func saliencyIsTheGradientOfTheLogit() throws {
        let model = try tinyNetwork(head: true)
        let network = try InspectableNetwork(model)
        let x = random([3, 6, 6, 1], seed: 8, low: 0, high: 1)
        let trace = try network.trace(x)
        let last = network.names.count - 1
        var seed = [Float](repeating: 0, count: 3 * 4)
        for (n, k) in [1, 3, 0].enumerated() { seed[n * 4 + k] = 1 }
        let signal = try Tensor(shape: [3, 4], scalars: seed)
        let mine = try network.project(signal, from: last, trace: trace, rule: .saliency).scalars
        let (_, gradients) = try valueAndGradient(at: [x], seed: signal) { p in try model(p[0]) }
        for (a, b) in zip(mine, gradients[0].scalars) { #expect(abs(a - b) <= 1e-5 + 1e-4 * abs(b), "\(a) vs \(b)") }
        #expect(mine.contains { $0 != 0 })
    }

    @Test func topActivationsAgreeWithABruteForceSearch() throws {
        let network = try InspectableNetwork(try tinyNetwork())
        // Images 20–36 repeat images 0–16, so equal strengths tie and the earlier image must come first.
        let random = try randomDataset(count: 20, seed: 21)
        let dataset = random.subset(Array(0..<20) + Array(0..<17))
        let points = [try network.featurePoint("conv1"), try network.featurePoint("pool1"), try network.featurePoint("conv2")]
        let found = try TopActivations.search(network, points: points, count: 5, in: dataset, batchSize: 10)
        for (p, point) in points.enumerated() {
            // Every image alone: its strongest activation in each map, the first position on a tie.
            var all: [[Activation]] = Array(repeating: [], count: found.channels[p].count)
            for image in 0..<dataset.count {
                let output = try network.trace(dataset.batch(indices: [image]).images).outputs[point.index]
                let (h, w, d) = (output.shape[1], output.shape[2], output.shape[3])
                let values = output.scalars
                for c in 0..<d {
                    var best = 0
                    for i in 0..<(h * w) where values[i * d + c] > values[best * d + c] { best = i }
                    all[c].append(Activation(image: image, row: best / w, column: best % w, value: values[best * d + c]))
                }
            }
            for c in all.indices {
                let expected = all[c].sorted { $0.value > $1.value || ($0.value == $1.value && $0.image < $1.image) }
                #expect(found.top[p][c] == Array(expected.prefix(5)), "\(point.name) map \(c)")
                #expect(found.maxima[p][c] == expected[0].value)
            }
        }
        // Part of a search is what a search for that part finds.
        let part = try TopActivations.search(network, points: [points[2]], channels: [[2, 0]], count: 2, in: dataset, batchSize: 10)
        let cut = found.restricted(to: [points[2]], channels: [[2, 0]], count: 2)
        #expect(cut.top == part.top && cut.maxima == part.maxima && cut.channels == part.channels)
    }

    @Test func occludingABlankRegionChangesNothing() throws {
        let network = try InspectableNetwork(try tinyNetwork(head: true))
        // Rows 0–2 blank at the fill value, the rest random.
        var pixels = random([6, 6, 1], seed: 31, low: 0, high: 1).scalars
        for i in 0..<18 { pixels[i] = 0.5 }
        let image = try Tensor(shape: [6, 6, 1], scalars: pixels)
        let point = try network.featurePoint("conv2")
        let maps = try OcclusionMaps.compute(network, image: image, label: 2, point: point, size: 1, stride: 1, fill: 0.5)
        #expect(maps.rows == 6 && maps.columns == 6)
        var changed = false
        for r in 0..<6 {
            for c in 0..<6 {
                let i = r * 6 + c
                if r < 3 {
                    #expect(abs(maps.activation[i] - maps.clean.activation) <= 1e-5 * max(1, abs(maps.clean.activation)), "(\(r), \(c))")
                    #expect(abs(maps.probability[i] - maps.clean.probability) <= 1e-6, "(\(r), \(c))")
                    #expect(maps.predicted[i] == maps.clean.predicted)
                } else if maps.activation[i] != maps.clean.activation || maps.probability[i] != maps.clean.probability {
                    changed = true
                }
            }
        }
        #expect(changed, "occluding the random rows must change something, or the test proves nothing")
        let square = OcclusionMaps.square(row: 0, column: 5, size: 3, height: 6, width: 6)
        #expect(square.rows == 0..<2 && square.columns == 4..<6)
    }

    @Test func lenetReceptiveFieldsAsWorkedOutByHand() throws {
        let network = try InspectableNetwork(try lenet(seed: 0))
        let fields = try network.receptiveFields(inputShape: [1, 28, 28, 1])
        // conv1 5×5 (padding 2); pool1 adds 1; conv2's 5×5 at jump 2 adds 8: 14×14; pool2 adds 2.
        let expected: [(String, Int, Int, Int)] = [("conv1", 5, 1, -2), ("relu1", 5, 1, -2), ("pool1", 6, 2, -2),
                                                   ("conv2", 14, 2, -6), ("relu2", 14, 2, -6), ("pool2", 16, 4, -6)]
        #expect(fields.count == expected.count)
        for (field, (name, size, jump, offset)) in zip(fields, expected) {
            #expect(field.rows == ReceptiveField(size: size, jump: jump, offset: offset), "\(name)")
            #expect(field.columns == field.rows, "\(name)")
        }
        // conv2's unit (0, 0) sees rows −6…7, so 6 rows of padding; unit (13, 13) rows 20…33.
        #expect(fields[3].rows.span(0) == -6..<8 && fields[3].rows.span(13) == 20..<34)
    }

    @Test func everyFigureIsWrittenAndEveryPNGHasItsDocumentedSize() throws {
        let model = try lenet(seed: 2)
        var generator = RandomGenerator(seed: 4)
        let pixels = (0..<(30 * 784)).map { _ in UInt8(generator.nextUInt32() % 256) }
        let dataset = try Dataset(pixels: pixels, labels: (0..<30).map { Int32($0 % 10) }, imageShape: ImageShape(height: 28, width: 28, channels: 1),
                                  classNames: (0..<10).map { "class\($0)" })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-inspect-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // One snapshot: the initial weights of another seed, saved as a trial would.
        let snapshot = folder.appendingPathComponent("step-000001.safetensors")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Checkpoint.saveWeights(of: try lenet(seed: 3), to: snapshot)
        var config = InspectConfig(steps: 10)
        config.images = [0, 1, 99]
        config.maps = 6
        let inspector = try Inspector(model: model, dataset: dataset, config: config, trialID: "t", snapshots: [(1, snapshot)],
                                      finalStep: 10, makeModel: { try lenet(seed: 0) })
        let out = folder.appendingPathComponent("inspect")
        let manifest = try inspector.write(to: out)
        #expect(Set(manifest.figures.map(\.section)) == Set(InspectConfig.Figure.allCases.map(\.rawValue)))
        #expect(manifest.notes.contains { $0.contains("99") }, "the image past the data set is said to be left out")
        #expect(try InspectionManifest.read(out).figures == manifest.figures)
        // Documented sizes: a top-images tile is the receptive field enlarged to about 40 pixels,
        // plus a 2-pixel separator; a row holds 9 projections, a 10-pixel gap and 9 patches.
        func size(_ name: String) throws -> (Int, Int) {
            let image = try PNG.decode(fileAt: out.appendingPathComponent(name).path)
            return (image.width, image.height)
        }
        #expect(try size("top9-conv1.png") == (2 * 9 * (5 * 8 + 2) + 10, 6 * (5 * 8 + 2)))
        #expect(try size("top9-conv2.png") == (2 * 9 * (14 * 2 + 2) + 10, 6 * (14 * 2 + 2)))
        // Feature maps: 32 maps of 28×28 enlarged ×2 with 3-pixel gaps, in 4 rows of 8.
        #expect(try size("maps-conv1.png") == (8 * 59, 4 * 59))
        // Evolution: one column per snapshot and one for the trained network, 8 maps.
        #expect(try size("evolution-conv2.png") == (2 * (14 * 2 + 4), 8 * (14 * 2 + 4)))
        #expect(try size("filters-conv1.png") == (FilterGrid.layout(count: 32).columns * 42 + 2, FilterGrid.layout(count: 32).rows * 42 + 2))
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        for name in names where name.hasSuffix(".png") { _ = try size(name) }
        for figure in manifest.figures {
            #expect(names.contains(figure.file), "\(figure.file)")
            if figure.file.hasSuffix(".svg") {
                _ = try XMLDocument(contentsOf: out.appendingPathComponent(figure.file))
            }
        }
        let page = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        for figure in manifest.figures { #expect(page.contains("src=\"\(figure.file)\"")) }
    }

    @Test func theDefaultImagesAreTheFirstOfEachClass() throws {
        let labels: [Int32] = [2, 2, 0, 1, 0, 3, 4, 5, 1]
        let dataset = try Dataset(pixels: [UInt8](repeating: 0, count: labels.count * 4), labels: labels,
                                  imageShape: ImageShape(height: 2, width: 2, channels: 1), classNames: (0..<6).map { "c\($0)" })
        #expect(Inspector.firstOfEachClass(dataset, classes: 5) == [2, 3, 0, 5, 6])
        #expect(Inspector.firstOfEachClass(dataset, classes: 2) == [2, 3])
    }

    @Test func aCNNIsRequired() throws {
        var generator = RandomGenerator(seed: 1)
        let recurrent = try Sequential([("lstm", LSTM(inputSize: 4, units: 3, generator: &generator)),
                                        ("fc", Dense(inputSize: 3, outputSize: 2, generator: &generator))])
        #expect { try InspectableNetwork(recurrent) } throws: { "\($0)".contains("'lstm'") && "\($0)".contains("conv2d") }
        let network = try InspectableNetwork(try lenet(seed: 0))
        #expect { try network.featurePoint("fc1") } throws: { "\($0)".contains("not a conv or pool layer") }
        #expect { try network.featurePoint("conv3") } throws: { "\($0)".contains("did you mean 'conv1'") || "\($0)".contains("did you mean 'conv2'") }
    }
}

@Suite struct ImageTransformTests {
    /// A 6×6×1 image with distinct values.
    let image = try! Tensor(shape: [6, 6, 1], scalars: (0..<36).map { Float($0) / 36 })

    @Test func wholePixelTranslationIsAShiftWithTheFill() throws {
        let moved = try ImageTransform.translateVertically(pixels: 2).apply(to: image, fill: 0.5).scalars
        let source = image.scalars
        for y in 0..<6 {
            for x in 0..<6 { #expect(moved[y * 6 + x] == (y < 2 ? 0.5 : source[(y - 2) * 6 + x]), "(\(y), \(x))") }
        }
    }

    @Test func halfPixelTranslationAveragesNeighbours() throws {
        let moved = try ImageTransform.translateVertically(pixels: 0.5).apply(to: image, fill: 0).scalars
        let source = image.scalars
        #expect(abs(moved[3 * 6 + 2] - (source[2 * 6 + 2] + source[3 * 6 + 2]) / 2) < 1e-6)
        #expect(abs(moved[2] - source[2] / 2) < 1e-6, "the top row blends with the fill")
    }

    @Test func quarterTurnsAreExact() throws {
        let source = image.scalars
        let turned = try ImageTransform.rotate(degrees: 90).apply(to: image, fill: 0).scalars
        // Counter-clockwise: the top row becomes the left column, read bottom to top.
        for y in 0..<6 { for x in 0..<6 { #expect(turned[y * 6 + x] == source[x * 6 + (5 - y)], "(\(y), \(x))") } }
        #expect(try ImageTransform.rotate(degrees: 360).apply(to: image, fill: 0).scalars == source)
        #expect(try ImageTransform.rotate(degrees: 0).apply(to: image, fill: 0).scalars == source)
        #expect(try ImageTransform.scale(factor: 1).apply(to: image, fill: 0).scalars == source)
    }

    @Test func scalingAboutTheCentre() throws {
        // ×2: output pixel (2, 2), centre (2.5, 2.5), reads source point (2.75, 2.75): between
        // pixel centres 2 and 3 at a quarter.
        let grown = try ImageTransform.scale(factor: 2).apply(to: image, fill: 0).scalars
        let s = image.scalars
        let expected = (s[2 * 6 + 2] * 0.75 + s[2 * 6 + 3] * 0.25) * 0.75 + (s[3 * 6 + 2] * 0.75 + s[3 * 6 + 3] * 0.25) * 0.25
        #expect(abs(grown[2 * 6 + 2] - expected) < 1e-6)
        // ×0.5 leaves a border of fill.
        #expect(try ImageTransform.scale(factor: 0.5).apply(to: image, fill: 0.25).scalars[0] == 0.25)
    }
}
