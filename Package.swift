// swift-tools-version: 6.1
import PackageDescription

// BLAS: OpenBLAS from Debian's libopenblas-dev on Linux (chosen by measurement: see MEASURED.md),
// Accelerate on macOS.
#if os(macOS)
let blasDependencies: [Target.Dependency] = []
let blasLinker: [LinkerSetting] = [.linkedFramework("Accelerate")]
let blasTargets: [Target] = []
#else
let blasDependencies: [Target.Dependency] = ["CBLAS"]
let blasLinker: [LinkerSetting] = []
let blasTargets: [Target] = [
    .systemLibrary(
        name: "CBLAS",
        pkgConfig: "openblas",
        providers: [.apt(["libopenblas-dev"])]
    ),
]
#endif

let package = Package(
    name: "Loupe",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "LoupeCore", targets: ["LoupeCore"]),
        .library(name: "LoupeData", targets: ["LoupeData"]),
        .library(name: "LoupeNN", targets: ["LoupeNN"]),
        .library(name: "LoupeLab", targets: ["LoupeLab"]),
        .library(name: "LoupeInsight", targets: ["LoupeInsight"]),
        .executable(name: "loupe", targets: ["loupe"]),
        .executable(name: "loupe-example", targets: ["LoupeExample"]),
        .executable(name: "loupe-bench", targets: ["LoupeBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: blasTargets + [
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Floating-point environment (flush-to-zero) and nothing else: Swift cannot reach MXCSR.
        .target(name: "CLoupeSupport"),
        .target(
            name: "LoupeCore",
            dependencies: blasDependencies + ["CLoupeSupport"],
            linkerSettings: blasLinker
        ),
        .target(name: "LoupeData", dependencies: [
            "LoupeCore", "CPNG", "CZlib",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "LoupeNN", dependencies: ["LoupeCore"]),
        .target(name: "LoupeLab", dependencies: [
            "LoupeNN", "LoupeData",
            .product(name: "Yams", package: "Yams"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "LoupeInsight", dependencies: ["LoupeLab"]),
        .executableTarget(name: "loupe", dependencies: [
            "LoupeLab", "LoupeInsight",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "LoupeExample", dependencies: ["LoupeCore"]),
        .executableTarget(name: "LoupeBench", dependencies: ["LoupeCore", "LoupeNN", "LoupeData", "LoupeInsight"]),
        .testTarget(name: "LoupeCoreTests", dependencies: ["LoupeCore"]),
        .testTarget(name: "LoupeDataTests", dependencies: ["LoupeData"]),
        .testTarget(name: "LoupeNNTests", dependencies: ["LoupeNN", "LoupeData"]),
        .testTarget(name: "LoupeLabTests", dependencies: ["LoupeLab"]),
        .testTarget(name: "LoupeInsightTests", dependencies: ["LoupeInsight"]),
    ],
    swiftLanguageModes: [.v6]
)
