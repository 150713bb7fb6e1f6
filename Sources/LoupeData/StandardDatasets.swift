extension DatasetCatalog {
    /// mnist, fashion-mnist, cifar10, cifar10-gray28 and mnist-png28.
    ///
    /// Where the sums come from:
    /// - MNIST: the SHA-256 of the four `.gz` files and of their gunzipped contents as published
    ///   with the cvdf and PyTorch (ossci) mirrors and matched across several independent download
    ///   scripts; not recomputed here (no network).
    /// - Fashion-MNIST: the `.gz` sums as published for Zalando's files (whose MD5s the project's
    ///   README lists), not recomputed here. Debian's `dataset-fashion-mnist` recompresses the
    ///   files (24 bytes shorter: no stored name), so its `.gz` sums differ; the content sums were
    ///   computed here from Debian's files (`zcat … | sha256sum`) and equal the published sums of
    ///   the original gunzipped files.
    /// - CIFAR-10: the SHA-256 of `cifar-10-binary.tar.gz` (170,052,171 bytes, MD5
    ///   c32a1d4ab5d03f1284b67883e8d87530 as on the Toronto page) as published by several projects;
    ///   not recomputed here.
    public static let standardEntries: [CatalogEntry] = [mnist, fashionMNIST, cifar10, cifar10Gray28, mnistPNG28]

    static let mnist = CatalogEntry(
        name: "mnist",
        summary: "MNIST handwritten digits (LeCun et al. 1998): 60,000 + 10,000 gray 28x28 images, IDX format",
        format: .idx,
        classNames: Dataset.numericClassNames(10),
        downloads: [
            idxFile("train-images-idx3-ubyte.gz", mirrors: mnistMirrors,
                    sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    content: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
            idxFile("train-labels-idx1-ubyte.gz", mirrors: mnistMirrors,
                    sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    content: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
            idxFile("t10k-images-idx3-ubyte.gz", mirrors: mnistMirrors,
                    sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    content: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
            idxFile("t10k-labels-idx1-ubyte.gz", mirrors: mnistMirrors,
                    sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                    content: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        ]
    )

    /// yann.lecun.com no longer serves the files to scripts; these mirrors hold the originals.
    static let mnistMirrors = [
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ]

    static let fashionMNIST = CatalogEntry(
        name: "fashion-mnist",
        summary: "Fashion-MNIST (Xiao et al. 2017): 60,000 + 10,000 gray 28x28 clothing images, IDX format",
        format: .idx,
        classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        downloads: [
            idxFile("train-images-idx3-ubyte.gz", mirrors: fashionMirrors,
                    sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                    content: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            idxFile("train-labels-idx1-ubyte.gz", mirrors: fashionMirrors,
                    sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                    content: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            idxFile("t10k-images-idx3-ubyte.gz", mirrors: fashionMirrors,
                    sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                    content: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            idxFile("t10k-labels-idx1-ubyte.gz", mirrors: fashionMirrors,
                    sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                    content: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ],
        systemLocations: ["/usr/share/datasets/fashion-mnist"]
    )

    static let fashionMirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ]

    static let cifar10 = CatalogEntry(
        name: "cifar10",
        summary: "CIFAR-10 (Krizhevsky 2009): 50,000 + 10,000 color 32x32 images in 10 classes, binary batches",
        format: .cifar10,
        classNames: CIFAR10.classNames,
        downloads: [
            CatalogFile(name: "cifar-10-binary.tar.gz",
                        urls: ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"],
                        sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),
        ]
    )

    /// Derived from `cifar10` (see `Derivation`): the first 1,000 images of each class of the
    /// training batches and the first 100 of each class of `test_batch.bin`, gray (Pillow's luma)
    /// and resized bilinearly from 32x32 to 28x28.
    static let cifar10Gray28 = CatalogEntry(
        name: "cifar10-gray28",
        summary: "A CIFAR-10 subset as 28x28 gray PNGs: 10,000 training and 1,000 test images (Train/<class>/*.png), derived from cifar10",
        format: .folder,
        classNames: CIFAR10.classNames,
        downloads: [],
        instructions: "Or copy a Train/ and Test/ folder (each with class folders 0…9 of PNGs) into the data directory's "
            + "cifar10-gray28 folder, or point LOUPE_DATA at a folder that holds cifar10-gray28/.",
        derivation: Derivation(source: "cifar10", trainPerClass: 1000, testPerClass: 100,
                               resize: ImageSize(height: 28, width: 28))
    )

    /// Derived from `mnist` (see `Derivation`): the first 1,000 images of each class of the
    /// training files and the first 100 of each class of t10k, as they are.
    static let mnistPNG28 = CatalogEntry(
        name: "mnist-png28",
        summary: "An MNIST subset as 28x28 gray PNGs: 10,000 training and 1,000 test images (Train/<class>/*.png), derived from mnist",
        format: .folder,
        classNames: Dataset.numericClassNames(10),
        downloads: [],
        instructions: "Or copy a Train/ and Test/ folder (each with class folders 0…9 of PNGs) into the data directory's "
            + "mnist-png28 folder, or point LOUPE_DATA at a folder that holds mnist-png28/; full MNIST is the catalog's mnist.",
        derivation: Derivation(source: "mnist", trainPerClass: 1000, testPerClass: 100)
    )

    private static func idxFile(_ name: String, mirrors: [String], sha256: String, content: String) -> CatalogFile {
        CatalogFile(name: name, urls: mirrors.map { $0 + name }, sha256: sha256, contentSHA256: content)
    }
}
