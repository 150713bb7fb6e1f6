import LoupeData

// Until LoupeData's own lands (merge of the data branch).
extension Dataset {
    public var sampleShape: [Int] { [imageShape.height, imageShape.width, imageShape.channels] }
}
