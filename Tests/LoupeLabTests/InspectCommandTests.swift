import Foundation
import LoupeData
@testable import LoupeLab
import Testing

private let inspected = smallExperiment
    .replacingOccurrences(of: "sweep:\n  optimizer.name: [adam, rmsprop]", with: "")
    .replacingOccurrences(of: "steps: 30, batch_size: 20, log_every: 5, checkpoint_every: 10", with: "steps: 60, batch_size: 20, log_every: 10, checkpoint_every: 20")
    + "\ninspect: {images: [0, 3], limit: 200, snapshots: [5, 20, 200]}\n"

@Suite(.serialized) struct InspectCommandTests {
    @Test func runDrawsTheInspectionAndInspectRedrawsIt() throws {
        guard let executable = loupeExecutable(), let root = testDataRoot() else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("inspected.yaml")
        try inspected.write(to: file, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out")
        let (status, output) = try runLoupe(executable, ["run", file.path, "--out", out.path, "--quiet"], data: root)
        #expect(status == 0, "\(output)")
        let id = try #require(try ExperimentLayout(root: out).trialIDs().first)
        let trial = ExperimentLayout(root: out).trial(id)
        // Snapshots after steps 5 and 20; 200 is past the last step.
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: trial.snapshots.path).sorted()
        #expect(snapshots == ["step-000005.safetensors", "step-000020.safetensors"])
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: trial.inspection.appendingPathComponent("inspect.json"))) as! [String: Any]
        let files = (manifest["figures"] as! [[String: Any]]).map { $0["file"] as! String }
        for expected in ["top9-conv1.svg", "top9-conv2.svg", "deconv.svg", "saliency.svg", "occlusion-0.svg", "occlusion-3.svg",
                         "evolution-conv2.svg", "invariance-rotation-probability.svg", "filters-conv1.png", "maps-conv2.png"] {
            #expect(files.contains(expected), "\(expected) missing from \(files)")
        }
        #expect(manifest["searchedImages"] as? Int == 200)
        // The report embeds it.
        #expect(try runLoupe(executable, ["report", out.path], data: root).status == 0)
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Inside the network") && html.contains("trials/\(id)/inspect/index.html"))

        // Again by hand, one figure and one layer, into another folder.
        let again = folder.appendingPathComponent("again")
        let (inspectStatus, inspectOutput) = try runLoupe(executable, ["inspect", trial.root.path, "--what", "top9", "--layer", "conv2",
                                                                       "--maps", "3", "--top", "4", "--out", again.path], data: root)
        #expect(inspectStatus == 0, "\(inspectOutput)")
        #expect(inspectOutput.contains("figures in") && inspectOutput.contains("feature maps dead"), "\(inspectOutput)")
        let png = try PNG.decode(fileAt: again.appendingPathComponent("top4-conv2.png").path)
        #expect(png.width == 2 * 4 * 30 + 10 && png.height == 3 * 30)

        // Mistakes name the flag and write nothing.
        let wrong = folder.appendingPathComponent("wrong")
        let (badStatus, badOutput) = try runLoupe(executable, ["inspect", trial.root.path, "--what", "topp9", "--out", wrong.path], data: root)
        #expect(badStatus == 1 && badOutput.contains("--what") && badOutput.contains("did you mean 'top9'"), "\(badOutput)")
        let (layerStatus, layerOutput) = try runLoupe(executable, ["inspect", trial.root.path, "--layer", "fc1", "--out", wrong.path], data: root)
        #expect(layerStatus == 1 && layerOutput.contains("not a conv or pool layer"), "\(layerOutput)")
        let (folderStatus, folderOutput) = try runLoupe(executable, ["inspect", folder.path], data: root)
        #expect(folderStatus == 1 && folderOutput.contains("config.yaml") && folderOutput.contains("trial folder"), "\(folderOutput)")
        #expect(!FileManager.default.fileExists(atPath: wrong.path))

        // In the experiment file, a wrong layer is an error before anything is written.
        let typo = folder.appendingPathComponent("typo.yaml")
        try inspected.replacingOccurrences(of: "inspect: {", with: "inspect: {layers: [conv3], ").write(to: typo, atomically: true, encoding: .utf8)
        let typoOut = folder.appendingPathComponent("typo")
        let (typoStatus, typoOutput) = try runLoupe(executable, ["run", typo.path, "--out", typoOut.path], data: root)
        #expect(typoStatus == 2 && typoOutput.contains("inspect.layers") && typoOutput.contains("did you mean"), "\(typoOutput)")
        #expect(!FileManager.default.fileExists(atPath: typoOut.path))
    }
}
