import Foundation
import LoupeCore
import LoupeLab
import Testing

private let base = """
name: small
data: {dataset: cifar10-gray28}
model: {builder: lenet}
train: {steps: 5000, batch_size: 10}
optimizer: {name: adam, lr: 1.0e-3}

"""

private func inspect(_ section: String) throws -> InspectConfig? {
    try Experiment.parse(text: base + section, path: "exp.yaml").trials[0].config.inspect
}

private func message(_ section: String) -> String {
    do { _ = try inspect(section); return "no error" } catch { return "\(error)" }
}

@Suite struct InspectConfigTests {
    @Test func absentMeansNoInspectionAndTrueMeansEverything() throws {
        #expect(try inspect("") == nil)
        let everything = try #require(try inspect("inspect: true"))
        #expect(everything.figures == InspectConfig.Figure.allCases)
        #expect(everything.top == 9 && everything.images == [] && everything.layers.isEmpty)
        #expect(everything.snapshots == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000])
    }

    @Test func everyKeyIsRead() throws {
        let config = try #require(try inspect("""
        inspect:
          what: [top9, occlusion]
          layers: [conv2]
          maps: 12
          top: 4
          images: [3, 7]
          limit: 500
          snapshots: [100, 10, 10]
          evolution_maps: 3
          occlusion: {size: 5, stride: 2, fill: 0.25}
        """))
        #expect(config.figures == [.top9, .occlusion] && config.layers == ["conv2"] && config.maps == 12 && config.top == 4)
        #expect(config.images == [3, 7] && config.limit == 500 && config.snapshots == [10, 100] && config.evolutionMaps == 3)
        #expect(config.occlusionSize == 5 && config.occlusionStride == 2 && config.occlusionFill == 0.25)
        #expect(try inspect("inspect: {occlusion: {fill: mean}}")?.occlusionFill == nil)
    }

    @Test func mistakesNameTheKey() {
        #expect(message("inspect: {what: [top8]}").contains("did you mean 'top9'"))
        #expect(message("inspect: {snapshot: auto}").contains("did you mean 'inspect.snapshots'"))
        #expect(message("inspect: {snapshots: [0]}").contains("inspect.snapshots"))
        #expect(message("inspect: {images: [-1]}").contains("inspect.images"))
        #expect(message("inspect: {top: 1000}").contains("at most 100"))
        #expect(message("inspect: {occlusion: {fill: 2}}").contains("inspect.occlusion.fill"))
    }

    @Test func automaticSnapshotsStopBeforeTheLastStep() {
        #expect(InspectConfig.automaticSnapshots(steps: 1) == [])
        #expect(InspectConfig.automaticSnapshots(steps: 50) == [1, 2, 5, 10, 20])
        #expect(InspectConfig.automaticSnapshots(steps: 51) == [1, 2, 5, 10, 20, 50])
    }
}
