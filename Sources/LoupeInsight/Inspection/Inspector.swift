import Foundation
import LoupeCore
import LoupeData
import LoupeLab
import LoupeNN

/// One picture the inspection wrote: its file in the inspection folder, what it shows.
public struct InspectionFigure: Codable, Sendable, Equatable {
    /// The `InspectConfig.Figure` it belongs to (`top9`, `occlusion`, …).
    public var section: String
    public var title: String
    public var file: String
    public var caption: String
}

/// What `loupe inspect` wrote, as `inspect.json` beside the figures: the report reads it.
public struct InspectionManifest: Codable, Sendable {
    public var trial: String
    /// Test images searched for the top images and the evolution.
    public var searchedImages: Int
    /// Seconds spent on each section.
    public var seconds: [String: Double]
    /// Findings in words (dead feature maps, what was left out and why).
    public var notes: [String]
    public var figures: [InspectionFigure]

    public static let file = "inspect.json"
    public static let page = "index.html"

    public static func read(_ folder: URL) throws -> InspectionManifest {
        let url = folder.appendingPathComponent(file)
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw LoupeError.file(path: url.path, message: "cannot be read") }
        do { return try JSONDecoder().decode(InspectionManifest.self, from: data) } catch {
            throw LoupeError.file(path: url.path, message: "is not an inspection manifest")
        }
    }
}

/// Draws what a trained CNN learned, after Zeiler & Fergus (2014), into a folder of PNG and SVG
/// files with an `index.html` and `inspect.json`:
///
/// - `filters`: the first layer's filters, each filter's norm, dead feature maps of every conv layer;
/// - `top9`: per layer, a row per feature map: the deconvnet projections of its `top` strongest
///   images' single strongest activation, then those images' patches under the unit's receptive field;
/// - `deconv`: per chosen image, the projection of its strongest unit at each layer;
/// - `saliency`: per chosen image, the true class's logit carried back by the three ReLU rules;
/// - `occlusion`: per chosen image, three heat maps over the occluder's position;
/// - `invariance`: feature distances and the true class's probability under translation, scale, rotation;
/// - `evolution`: per layer, the strongest activation of some maps projected at every snapshot;
/// - `maps`: the first chosen image's feature maps at every conv and pool layer;
/// - `histograms`: activation histograms of every conv, pool and last hidden layer.
///
/// Projections are all drawn the same way (`Tile.projection`): each value v becomes ½ + ½·v/m,
/// m the largest |v| in the tile, so zero is mid-gray and the strongest value white.
public final class Inspector {
    public let network: InspectableNetwork
    public let dataset: Dataset
    public let config: InspectConfig
    public let trialID: String
    let snapshots: [(step: Int, url: URL)]
    let finalStep: Int
    let makeModel: () throws -> Sequential

    /// `dataset` is what the figures search and show (the test split); `snapshots` the kept
    /// weights, with `makeModel` making a model to load them into; `finalStep` the steps `model` trained.
    public init(model: Sequential, dataset: Dataset, config: InspectConfig, trialID: String,
                snapshots: [(step: Int, url: URL)] = [], finalStep: Int, makeModel: @escaping () throws -> Sequential) throws {
        network = try InspectableNetwork(model)
        guard dataset.count > 0 else { throw LoupeError.invalidArgument(name: "inspect", message: "the data set to inspect on has no images") }
        self.dataset = dataset
        self.config = config
        self.trialID = trialID
        self.snapshots = snapshots.filter { $0.step < finalStep }.sorted { $0.step < $1.step }
        self.finalStep = finalStep
        self.makeModel = makeModel
    }

    /// The snapshots kept in a trial folder (`snapshots/step-NNNNNN.safetensors`), by step.
    public static func snapshots(in layout: TrialLayout) -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshots.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("step-"), name.hasSuffix(".safetensors"),
                  let step = Int(name.dropFirst(5).dropLast(12)) else { return nil }
            return (step, layout.snapshots.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// The first image of each of the first `classes` classes, in class order: the default
    /// images to show (a test split sorted by class would otherwise show one class only).
    public static func firstOfEachClass(_ dataset: Dataset, classes: Int) -> [Int] {
        var first: [Int: Int] = [:]
        for (index, label) in dataset.labels.enumerated() where Int(label) < classes && first[Int(label)] == nil {
            first[Int(label)] = index
            if first.count == classes { break }
        }
        return first.keys.sorted().map { first[$0]! }
    }

    // MARK: - Writing

    /// Draws every figure of `config.figures` into `folder` (created; earlier figures replaced)
    /// and returns the manifest, also written there.
    @discardableResult
    public func write(to folder: URL) throws -> InspectionManifest {
        let fm = FileManager.default
        // The layers are checked before anything is written.
        let points = try config.layers.isEmpty ? network.convolutionPoints : config.layers.map { try network.featurePoint($0) }
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        AtomicFile.removeLeftovers(in: folder)
        var files = Files(folder: folder)
        var notes: [String] = [], seconds: [String: Double] = [:]
        let clock = ContinuousClock()
        func timed(_ name: String, _ body: () throws -> Void) rethrows {
            let start = clock.now
            try body()
            seconds[name, default: 0] += (clock.now - start).seconds
        }

        let allConvolutions = network.convolutionPoints
        var searchPoints = allConvolutions
        for point in points where !searchPoints.contains(point) { searchPoints.append(point) }
        let images = config.images.isEmpty ? Self.firstOfEachClass(dataset, classes: 5) : config.images.filter { $0 < dataset.count }
        if images.count < config.images.count {
            notes.append("Image indices \(config.images.filter { $0 >= dataset.count }.map(String.init).joined(separator: ", ")) are past the \(dataset.count) images of the data set and were left out.")
        }
        let shape = dataset.sampleShape
        let fields = try network.receptiveFields(inputShape: [1] + shape)
        let wants = Set(config.figures)

        var search: TopActivations?
        if !wants.isDisjoint(with: [.top9, .filters, .evolution]) {
            try timed("search") {
                search = try TopActivations.search(network, points: searchPoints, count: config.top, in: dataset, limit: config.limit)
            }
        }
        let searched = search?.images ?? 0
        if let search {
            for point in allConvolutions {
                let p = search.points.firstIndex(of: point)!
                let dead = search.channels[p].indices.filter { search.maxima[p][$0] <= 0 }.map { search.channels[p][$0] }
                notes.append("\(point.name): \(dead.count) of \(search.channels[p].count) feature maps dead (no positive activation on any of the \(searched) images searched)\(dead.isEmpty ? "" : ": maps " + dead.map(String.init).joined(separator: ", ")).")
            }
        }
        if wants.contains(.filters) { try timed("filters") { try filters(search!, into: &files) } }
        if wants.contains(.top9) {
            try timed("top9") {
                for point in points { try top(point, search: search!, fields: fields, into: &files) }
            }
        }
        if wants.contains(.deconv), !images.isEmpty { try timed("deconv") { try deconvolution(images, points: points, into: &files) } }
        if wants.contains(.saliency), !images.isEmpty { try timed("saliency") { try saliency(images, into: &files) } }
        if wants.contains(.occlusion), !images.isEmpty {
            try timed("occlusion") { try occlusion(images, point: allConvolutions.last!, into: &files) }
        }
        if wants.contains(.invariance), !images.isEmpty { try timed("invariance") { try invariance(images, into: &files) } }
        if wants.contains(.evolution) {
            if snapshots.isEmpty {
                notes.append("No feature evolution: the trial kept no snapshots of its weights (train it with inspect.snapshots in the experiment file).")
            } else {
                try timed("evolution") { try evolution(points, search: search!, fields: fields, into: &files) }
            }
        }
        if wants.contains(.maps), let first = images.first { try timed("maps") { try featureMaps(first, into: &files) } }
        if wants.contains(.histograms) { try timed("histograms") { try histograms(into: &files) } }

        let manifest = InspectionManifest(trial: trialID, searchedImages: searched, seconds: seconds, notes: notes, figures: files.figures)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(try encoder.encode(manifest), to: folder.appendingPathComponent(InspectionManifest.file))
        try writeAtomically(Data(Self.page(manifest).utf8), to: folder.appendingPathComponent(InspectionManifest.page))
        // Figures of an earlier inspection that this one did not draw again.
        let kept = Set(files.figures.map(\.file) + files.extra + [InspectionManifest.file, InspectionManifest.page])
        for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] where !kept.contains(name) && (name.hasSuffix(".png") || name.hasSuffix(".svg")) {
            try? fm.removeItem(at: folder.appendingPathComponent(name))
        }
        return manifest
    }

    /// The files written so far.
    struct Files {
        let folder: URL
        var figures: [InspectionFigure] = []
        /// Files not listed as figures (the PNGs inside labelled SVGs).
        var extra: [String] = []

        mutating func add(_ section: InspectConfig.Figure, _ title: String, file: String, caption: String, svg: String? = nil,
                          png: [UInt8]? = nil) throws {
            if let svg { try writeAtomically(Data(svg.utf8), to: folder.appendingPathComponent(file)) }
            if let png { try writeAtomically(Data(png), to: folder.appendingPathComponent(file)) }
            figures.append(InspectionFigure(section: section.rawValue, title: title, file: file, caption: caption))
        }

        /// A labelled SVG figure, and its picture alone as PNG beside it.
        mutating func add(_ section: InspectConfig.Figure, _ title: String, name: String, caption: String, canvas: Canvas,
                          rows: [(y: Double, text: String)], columns: [(x: Double, text: String)],
                          groups: [(x: Double, text: String)] = []) throws {
            try writeAtomically(Data(try canvas.png()), to: folder.appendingPathComponent(name + ".png"))
            extra.append(name + ".png")
            try add(section, title, file: name + ".svg", caption: caption,
                    svg: try FigureSVG.labelled(canvas, title: title, rows: rows, columns: columns, groups: groups))
        }
    }

    func label(_ image: Int) -> String {
        let label = Int(dataset.labels[image])
        return "#\(image) " + (label < dataset.classNames.count ? dataset.classNames[label] : String(label))
    }

    // MARK: - Filters

    func filters(_ search: TopActivations, into files: inout Files) throws {
        guard let index = network.names.indices.first(where: { network.isConvolution($0) }),
              case let .conv(conv) = network.kinds[index] else { return }
        let weight = conv.weight.value
        let grid = try FilterGrid(filters: weight, scale: 8)
        let (kh, kw, ci, co) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        try files.add(.filters, "\(network.names[index]) filters", file: "filters-\(network.names[index]).png",
                      caption: "The \(co) filters of \(network.names[index]) (\(kh)×\(kw)×\(ci)), one tile each, enlarged ×8, read row by row; each min–max normalised on its own (black its smallest weight, white its largest).",
                      png: try PNG.encode(grid.image))
        let values = weight.scalars
        let norms = (0..<co).map { f -> Double in
            var sum = 0.0
            for i in 0..<(kh * kw * ci) { sum += Double(values[i * co + f]) * Double(values[i * co + f]) }
            return sum.squareRoot()
        }
        let p = search.points.firstIndex { $0.index == index + 1 || $0.index == index }
        let dead = p.map { p in search.channels[p].indices.filter { search.maxima[p][$0] <= 0 }.count } ?? 0
        let svg = FigureSVG.bars(norms, title: "\(network.names[index]): norm of each filter", xLabel: "filter", yLabel: "L2 norm",
                                 lowX: "0", highX: String(co - 1))
        try files.add(.filters, "\(network.names[index]) filter norms", file: "filter-norms-\(network.names[index]).svg",
                      caption: "The L2 norm of each filter's weights (largest \(NumberFormat.value(norms.max())), smallest \(NumberFormat.value(norms.min()))). Zeiler & Fergus (Sec. 4.1) read a few filters dominating, and dead ones, as signs of a too large first layer or learning rate; \(dead) of these \(co) feature maps are dead on the images searched.",
                      svg: svg)
    }

    // MARK: - Top images

    /// Tile size and enlargement for a receptive field: about 40 pixels a side.
    static func tileScale(_ size: Int) -> Int { max(1, 40 / max(size, 1)) }
    static let separator = 2, groupGap = 10

    /// The channels of `point` drawn: all, or `config.maps` of them drawn with the seed 0 stream
    /// `inspect/maps`, in ascending order.
    func drawnChannels(_ all: [Int], point: FeaturePoint) -> [Int] {
        guard config.maps > 0, config.maps < all.count else { return all }
        var generator = RandomStreams(seed: 0).generator("inspect/maps/\(point.name)")
        var pool = all
        for i in 0..<config.maps {
            let j = i + Int(generator.nextUInt32() % UInt32(pool.count - i))
            pool.swapAt(i, j)
        }
        return pool[0..<config.maps].sorted()
    }

    func top(_ point: FeaturePoint, search: TopActivations, fields: [(rows: ReceptiveField, columns: ReceptiveField)],
             into files: inout Files) throws {
        let p = search.points.firstIndex(of: point)!
        let drawn = drawnChannels(search.channels[p], point: point)
        let field = fields[point.index]
        var hits: [(channel: Int, activation: Activation)] = []
        for channel in drawn {
            let k = search.channels[p].firstIndex(of: channel)!
            hits += search.top[p][k].map { (channel, $0) }
        }
        let projected = try network.projections(of: hits, at: point, in: dataset)
        let (th, tw) = (field.rows.size, field.columns.size), scale = Self.tileScale(max(th, tw))
        let cellW = tw * scale + Self.separator, cellH = th * scale + Self.separator
        let count = config.top
        var canvas = Canvas(width: 2 * count * cellW + Self.groupGap, height: drawn.count * cellH)
        var rows: [(y: Double, text: String)] = []
        var cursor = 0
        for (r, channel) in drawn.enumerated() {
            let k = search.channels[p].firstIndex(of: channel)!
            let list = search.top[p][k]
            let strongest = search.maxima[p][k]
            rows.append((Double(r * cellH + cellH / 2), strongest > 0 ? "map \(channel) · max \(NumberFormat.value(Double(strongest)))" : "map \(channel) · dead"))
            for (j, hit) in list.enumerated() {
                defer { cursor += 1 }
                // An image on which the map is not active at all has nothing to project.
                guard hit.value > 0 else { continue }
                let span = (field.rows.span(hit.row), field.columns.span(hit.column))
                canvas.draw(Tile.projection(projected[cursor], rows: span.0, columns: span.1), x: j * cellW, y: r * cellH, scale: scale)
                canvas.draw(Tile.image(dataset.image(at: hit.image), rows: span.0, columns: span.1),
                            x: count * cellW + Self.groupGap + j * cellW, y: r * cellH, scale: scale)
            }
        }
        let half = Double(count * cellW) / 2
        let sample = drawn.count < search.channels[p].count ? "\(drawn.count) of its \(search.channels[p].count) feature maps (a seeded sample)" : "every one of its \(drawn.count) feature maps"
        try files.add(.top9, "\(point.name): top \(count) images per feature map", name: "top\(count)-\(point.name)",
                      caption: "For \(sample), a row: on the left the deconvnet projections to pixels of the \(count) strongest single activations over the \(search.images) images searched (one per image, strongest first), on the right the same images' patches under that unit's receptive field (\(field.rows.size)×\(field.columns.size) pixels; pale blue where it reaches past the image into the padding; a blank cell is an image on which the map has no positive activation). Enlarged ×\(scale) by nearest neighbour. Each projection is scaled on its own: mid-gray is zero, white the strongest positive value, black its negative.",
                      canvas: canvas, rows: rows, columns: [],
                      groups: [(half, "projections (deconvnet)"), (Double(count * cellW + Self.groupGap) + half, "image patches")])
    }

    // MARK: - Projections of chosen images

    /// Rows of whole-image tiles: the image, then one tile per column.
    func imageRows(_ images: [Int], columns titles: [String], tiles: [[Tile]]) -> (Canvas, [(y: Double, text: String)], [(x: Double, text: String)], Int) {
        let (h, w) = (dataset.sampleShape[0], dataset.sampleShape[1])
        let scale = max(1, 96 / max(h, w))
        let cellW = w * scale + 6, cellH = h * scale + 6
        var canvas = Canvas(width: (titles.count + 1) * cellW, height: images.count * cellH)
        for (r, image) in images.enumerated() {
            canvas.draw(Tile.image(dataset.image(at: image)), x: 0, y: r * cellH, scale: scale)
            for (c, tile) in tiles[r].enumerated() { canvas.draw(tile, x: (c + 1) * cellW, y: r * cellH, scale: scale) }
        }
        let rows = images.enumerated().map { (Double($0.offset * cellH + cellH / 2), label($0.element)) }
        let columns = (["image"] + titles).enumerated().map { (Double($0.offset * cellW + cellW / 2 - 3), $0.element) }
        return (canvas, rows, columns, scale)
    }

    func deconvolution(_ images: [Int], points: [FeaturePoint], into files: inout Files) throws {
        let batch = dataset.batch(indices: images).images
        var tiles = Array(repeating: [Tile](), count: images.count)
        for point in points {
            let trace = try network.trace(batch, through: point.index)
            let output = trace.outputs[point.index]
            let (h, w, d) = (output.shape[1], output.shape[2], output.shape[3])
            let units = output.withUnsafeBufferPointer { values in
                images.indices.map { n -> (channel: Int, row: Int, column: Int) in
                    var best = 0
                    for i in 1..<(h * w * d) where values[n * h * w * d + i] > values[n * h * w * d + best] { best = i }
                    return (best % d, best / d / w, best / d % w)
                }
            }
            let projected = try network.projections(of: units, images: batch, at: point)
            for n in images.indices { tiles[n].append(Tile.projection(projected[n])) }
        }
        let (canvas, rows, columns, scale) = imageRows(images, columns: points.map(\.name), tiles: tiles)
        try files.add(.deconv, "Deconvnet projections of each image's strongest unit", name: "deconv",
                      caption: "For each image (left), the deconvnet projection to pixels of its single strongest activation at each layer: every other activation of that layer set to zero, then down through the layers, unpooling with the switches of this image's own forward pass, rectifying, and filtering with the transposed filters. Enlarged ×\(scale); each projection scaled on its own (mid-gray zero, white the strongest value).",
                      canvas: canvas, rows: rows, columns: columns)
    }

    func saliency(_ images: [Int], into files: inout Files) throws {
        let (batch, labels) = dataset.batch(indices: images)
        let trace = try network.trace(batch)
        let last = network.names.count - 1, classes = trace.outputs[last].shape[1]
        let signal = Tensor(shape: trace.outputs[last].shape) { buffer in
            buffer.initialize(repeating: 0)
            for (n, label) in labels.enumerated() where Int(label) < classes { buffer[n * classes + Int(label)] = 1 }
        }
        var tiles = Array(repeating: [Tile](), count: images.count)
        for rule in BackwardRule.allCases {
            let projected = try split(network.project(signal, from: last, trace: trace, rule: rule))
            for n in images.indices { tiles[n].append(Tile.projection(projected[n])) }
        }
        let (canvas, rows, columns, scale) = imageRows(images, columns: BackwardRule.allCases.map(\.title), tiles: tiles)
        try files.add(.saliency, "The true class's logit carried back three ways", name: "saliency",
                      caption: "For each image, the true class's logit carried back to the pixels through the whole network, the three methods differing only at each ReLU: deconvnet rectifies the signal, the gradient (saliency) passes it where the forward input was positive, guided backpropagation does both. Enlarged ×\(scale); each map scaled on its own (mid-gray zero, white the strongest positive value, black the strongest negative).",
                      canvas: canvas, rows: rows, columns: columns)
    }

    // MARK: - Occlusion

    /// The data set's mean pixel value (over every channel), the default fill.
    var meanPixel: Float {
        var sum = 0.0
        for byte in dataset.pixels { sum += Double(byte) }
        return Float(sum / Double(max(dataset.pixels.count, 1)) / 255)
    }

    func occlusion(_ images: [Int], point: FeaturePoint, into files: inout Files) throws {
        let (h, w) = (dataset.sampleShape[0], dataset.sampleShape[1])
        let size = config.occlusionSize ?? max(1, Int((Double(min(h, w)) / 4).rounded()))
        let fill = config.occlusionFill ?? meanPixel
        let scale = max(1, 140 / max(h, w))
        let panel = Double(w * scale), gap = 24.0, top = 44.0
        for image in images {
            let truth = Int(dataset.labels[image])
            let maps = try OcclusionMaps.compute(network, image: dataset.image(at: image), label: truth, point: point, size: size,
                                                 stride: config.occlusionStride, fill: fill)
            let cell = maps.stride * scale
            let activationRange = (maps.activation.min() ?? 0)...(maps.activation.max() ?? 0)
            let tiles: [(String, Tile)] = [
                ("image", Tile.image(dataset.image(at: image))),
                ("total activation, \(point.name) map \(maps.channel)", Tile.heatMap(maps.activation, height: maps.rows, width: maps.columns, range: activationRange)),
                ("P(\(className(truth)))", Tile.heatMap(maps.probability, height: maps.rows, width: maps.columns, range: 0...1)),
                ("most probable class", Tile.classes(maps.predicted, height: maps.rows, width: maps.columns)),
            ]
            let present = Array(Set(maps.predicted)).sorted()
            let legendRows = (present.count + 1) / 2
            let width = 4 * panel + 3 * gap + 16, height = top + panel + 40 + Double(legendRows) * 16
            let title = "Occlusion of \(label(image)): a \(size)×\(size) square of \(NumberFormat.value(Double(fill))) moved by \(maps.stride)"
            var svg = FigureSVG.header(width: width, height: height, title: title)
            svg.append(FigureSVG.text(title, x: 8, y: 18, bold: true))
            for (i, (name, tile)) in tiles.enumerated() {
                var canvas = Canvas(width: Int(panel), height: Int(panel))
                canvas.draw(tile, x: 0, y: 0, scale: i == 0 ? scale : cell)
                let x = 8 + Double(i) * (panel + gap)
                svg.append(FigureSVG.text(name, x: x + panel / 2, y: top - 8, anchor: "middle", size: 11))
                svg.append(FigureSVG.image(try canvas.png(), x: x, y: top, width: Int(panel), height: Int(panel)))
            }
            let below = top + panel + 8
            svg += FigureSVG.colourBar(id: "occ-a-\(image)", x: 8 + panel + gap, y: below, width: panel,
                                       low: NumberFormat.value(Double(activationRange.lowerBound)), high: NumberFormat.value(Double(activationRange.upperBound)))
            svg += FigureSVG.colourBar(id: "occ-p-\(image)", x: 8 + 2 * (panel + gap), y: below, width: panel, low: "0", high: "1")
            for (i, k) in present.enumerated() {
                let x = 8 + 3 * (panel + gap) + Double(i % 2) * (panel / 2), y = below + Double(i / 2) * 16
                svg.append(##"<rect x="\##(FigureSVG.px(x))" y="\##(FigureSVG.px(y))" width="10" height="10" fill="\##(ColourMap.categoryHex(k))"/>"##)
                svg.append(FigureSVG.text(className(k), x: x + 14, y: y + 9, size: 10))
            }
            svg.append("</svg>")
            try files.add(.occlusion, title, file: "occlusion-\(image).svg",
                          caption: "Each heat-map cell is the network's output with the square centred on that pixel (clipped at the edges). The clean image gives a total activation of \(NumberFormat.value(Double(maps.clean.activation))) in map \(maps.channel) of \(point.name) (its strongest), P(\(className(truth))) = \(NumberFormat.fraction(Double(maps.clean.probability))) and predicts \(className(maps.clean.predicted)). Where hiding a part lowers the probability or changes the prediction, the network relied on it.",
                          svg: svg.joined(separator: "\n") + "\n")
        }
    }

    func className(_ label: Int) -> String { label < dataset.classNames.count ? dataset.classNames[label] : String(label) }

    // MARK: - Invariance

    func invariance(_ images: [Int], into files: inout Files) throws {
        let first = network.convolutionPoints.first!
        var layers = [(name: first.name, index: first.index)]
        if let hidden = network.lastHiddenIndex, hidden != first.index { layers.append((network.names[hidden], hidden)) }
        let inputs = images.map { (dataset.image(at: $0), Int(dataset.labels[$0])) }
        let fill = meanPixel
        for kind in InvarianceCurves.Kind.allCases {
            let curves = try InvarianceCurves.compute(network, images: inputs, kind: kind, layers: layers, fill: fill)
            func series(_ values: (Int) -> [Double]) -> [LineChart.Series] {
                images.enumerated().map { n, image in
                    LineChart.Series(id: label(image), points: zip(curves.amounts, values(n)).map { LineChart.Point(x: $0, y: $1) },
                                     color: TrialCurves.color(n))
                }
            }
            for (l, layer) in curves.layers.enumerated() {
                let chart = LineChart(identifier: "inv-\(kind.rawValue)-\(layer)", title: "\(kind.rawValue): \(layer) feature distance",
                                      xLabel: kind.axisLabel, yLabel: "Euclidean distance", series: series { curves.distances[$0][l] })
                try files.add(.invariance, chart.title, file: "invariance-\(kind.rawValue)-\(layer).svg",
                              caption: "The Euclidean distance between \(layer)'s output for the \(kind.rawValue == "scale" ? "scaled" : kind.rawValue == "rotation" ? "rotated" : "translated") image and for the original, one line per image.",
                              svg: chart.svg())
            }
            let chart = LineChart(identifier: "inv-\(kind.rawValue)-p", title: "\(kind.rawValue): probability of the true class",
                                  xLabel: kind.axisLabel, yLabel: "P(true class)", series: series { curves.probabilities[$0] }, yRange: 0...1)
            try files.add(.invariance, chart.title, file: "invariance-\(kind.rawValue)-probability.svg",
                          caption: "The softmax probability of each image's true class as the transform grows.", svg: chart.svg())
        }
    }

    // MARK: - Evolution

    func evolution(_ points: [FeaturePoint], search: TopActivations, fields: [(rows: ReceptiveField, columns: ReceptiveField)],
                   into files: inout Files) throws {
        // The maps followed: the strongest at the end of training.
        let followed = points.map { point -> [Int] in
            let p = search.points.firstIndex(of: point)!
            let order = search.channels[p].indices.sorted { search.maxima[p][$0] > search.maxima[p][$1] || (search.maxima[p][$0] == search.maxima[p][$1] && $0 < $1) }
            return order.prefix(config.evolutionMaps).map { search.channels[p][$0] }
        }
        var columns: [[[Tile]]] = []   // [snapshot][point][map]
        var steps: [Int] = []
        for (step, url) in snapshots + [(finalStep, nil as URL?)] {
            let net: InspectableNetwork, found: TopActivations
            if let url {
                let model = try makeModel()
                try Checkpoint.loadWeights(into: model, from: url)
                net = try InspectableNetwork(model)
                found = try TopActivations.search(net, points: points, channels: followed, count: 1, in: dataset, limit: config.limit)
            } else {
                // The trained network's column: the search already made finds the same.
                net = network
                found = search.restricted(to: points, channels: followed, count: 1)
            }
            var perPoint: [[Tile]] = []
            for (p, point) in points.enumerated() {
                let hits = found.channels[p].indices.map { (channel: found.channels[p][$0], activation: found.top[p][$0][0]) }
                let projected = try net.projections(of: hits, at: point, in: dataset)
                let field = fields[point.index]
                perPoint.append(zip(hits, projected).map { hit, projection in
                    Tile.projection(projection, rows: field.rows.span(hit.activation.row), columns: field.columns.span(hit.activation.column))
                })
            }
            columns.append(perPoint)
            steps.append(step)
        }
        for (p, point) in points.enumerated() {
            let field = fields[point.index]
            let scale = Self.tileScale(max(field.rows.size, field.columns.size))
            let cellW = field.columns.size * scale + 4, cellH = field.rows.size * scale + 4
            var canvas = Canvas(width: steps.count * cellW, height: followed[p].count * cellH)
            for (s, column) in columns.enumerated() {
                for (r, tile) in column[p].enumerated() { canvas.draw(tile, x: s * cellW, y: r * cellH, scale: scale) }
            }
            try files.add(.evolution, "\(point.name): features over training", name: "evolution-\(point.name)",
                          caption: "For the \(followed[p].count) feature maps of \(point.name) strongest at the end, a row: at each kept step (columns; the last is the trained network), the deconvnet projection of the map's strongest activation over the \(search.images) images searched, cropped to its receptive field. Enlarged ×\(scale); each projection scaled on its own.",
                          canvas: canvas, rows: followed[p].enumerated().map { (Double($0.offset * cellH + cellH / 2), "map \($0.element)") },
                          columns: steps.enumerated().map { (Double($0.offset * cellW + cellW / 2), "\($0.element)") },
                          groups: [(Double(steps.count * cellW) / 2, "step")])
        }
    }

    // MARK: - Feature maps and histograms

    func featureMaps(_ image: Int, into files: inout Files) throws {
        let trace = try network.trace(dataset.batch(indices: [image]).images)
        for index in network.names.indices where network.isConvolution(index) || network.isPool(index) {
            let point = try network.featurePoint(network.names[index])
            let output = trace.outputs[point.index]
            let (h, w, d) = (output.shape[1], output.shape[2], output.shape[3])
            let maps = try output.reshaped([h, w, d])
            let top = output.scalars.max() ?? 0
            let (rows, columns) = FilterGrid.layout(count: d)
            let scale = max(1, 56 / max(h, w))
            let cellW = w * scale + 3, cellH = h * scale + 3
            var canvas = Canvas(width: columns * cellW, height: rows * cellH)
            for c in 0..<d { canvas.draw(Tile.featureMap(maps, channel: c, top: top), x: (c % columns) * cellW, y: (c / columns) * cellH, scale: scale) }
            try files.add(.maps, "\(point.name): feature maps of \(label(image))", file: "maps-\(point.name).png",
                          caption: "The \(d) feature maps (\(h)×\(w)) of \(point.name) on image \(label(image)), read row by row from map 0, enlarged ×\(scale). One scale for the whole layer: black 0 (or below), white its largest activation on this image, \(NumberFormat.value(Double(top))).",
                          png: try canvas.png())
        }
    }

    func histograms(into files: inout Files) throws {
        let count = min(100, dataset.count)
        let trace = try network.trace(dataset.batch(indices: Array(0..<count)).images)
        var indices = network.names.indices.filter { network.isConvolution($0) || network.isPool($0) }.map { try! network.featurePoint(network.names[$0]) }
        if let hidden = network.lastHiddenIndex { indices.append(FeaturePoint(name: network.names[hidden], index: hidden)) }
        for point in indices {
            let values = trace.outputs[point.index].scalars
            let zeros = values.filter { $0 == 0 }.count
            let nonzero = values.filter { $0 != 0 && $0.isFinite }
            let low = Double(nonzero.min() ?? 0), high = Double(nonzero.max() ?? 1)
            var bins = [Double](repeating: 0, count: 40)
            for v in nonzero {
                let t = high > low ? (Double(v) - low) / (high - low) : 0
                bins[min(39, Int(t * 40))] += 1
            }
            let share = Double(zeros) / Double(max(values.count, 1))
            let svg = FigureSVG.bars(bins, title: "\(point.name): activations, \(NumberFormat.fraction(share)) exactly zero", xLabel: "activation (nonzero)",
                                     yLabel: "count", lowX: NumberFormat.value(low), highX: NumberFormat.value(high))
            try files.add(.histograms, "\(point.name) activations", file: "histogram-\(point.name).svg",
                          caption: "The \(values.count) activations of \(point.name) on the first \(count) images: the share exactly zero in the title, the others in 40 bins between their smallest and largest.",
                          svg: svg)
        }
    }

    // MARK: - Index page

    static let sections: [(InspectConfig.Figure, String, String)] = [
        (.filters, "First-layer filters", "The architecture check of Zeiler & Fergus (Sec. 4.1)."),
        (.top9, "Top images per feature map", "Zeiler & Fergus Fig. 2: what excites each feature map most, projected to pixels, beside the image patches it saw."),
        (.deconv, "Deconvnet projections", "Zeiler & Fergus Sec. 2.1, Fig. 1."),
        (.saliency, "Deconvnet, gradient and guided backpropagation", "The same way back through the network with its three ReLU rules."),
        (.occlusion, "Occlusion sensitivity", "Zeiler & Fergus Sec. 4.2, Fig. 7."),
        (.invariance, "Invariance to translation, scale and rotation", "Zeiler & Fergus Fig. 5: bilinear resampling about the image's centre; pixels from outside the image read as the data set's mean pixel."),
        (.evolution, "Feature evolution during training", "Zeiler & Fergus Fig. 4."),
        (.maps, "Feature maps", "One image's feature maps at every conv and pool layer."),
        (.histograms, "Activation histograms", "How each layer's activations are spread."),
    ]

    static func page(_ manifest: InspectionManifest) -> String {
        var html = ["<!DOCTYPE html>", ##"<html lang="en">"##, "<head>", ##"<meta charset="utf-8">"##,
                    "<title>Inside the network: \(HTML.escape(manifest.trial))</title>", "<style>", HTML.style, HTML.insightStyle, "</style>",
                    "</head>", "<body>", "<h1>Inside the network: \(HTML.escape(manifest.trial))</h1>"]
        html += manifest.notes.map { "<p class=\"note\">\(HTML.escape($0))</p>" }
        for (section, title, note) in sections {
            let figures = manifest.figures.filter { $0.section == section.rawValue }
            guard !figures.isEmpty else { continue }
            html.append("<h2>\(HTML.escape(title))</h2>")
            html.append("<p class=\"note\">\(HTML.escape(note))</p>")
            html.append(##"<div class="insight">"##)
            for figure in figures {
                html.append(##"<figure><img src="\##(HTML.escape(figure.file))" alt="\##(HTML.escape(figure.title))"><figcaption>\##(HTML.escape(figure.caption))</figcaption></figure>"##)
            }
            html.append("</div>")
        }
        html += ["</body>", "</html>"]
        return html.joined(separator: "\n") + "\n"
    }
}
