import NotebookCore

// The single-channel feature map shared by the RoI and deformable-convolution modules, and the
// limits that keep each of their cells within milliseconds.

/// An H×W map of numbers read row by row, as a `mat` parameter gives it.
struct FeatureMap {
    let height: Int
    let width: Int
    /// Row-major: the value at (y, x) is `values[y * width + x]`.
    let values: [Double]

    init(_ rows: [[Double]]) {
        height = rows.count
        width = rows[0].count
        values = rows.flatMap { $0 }
    }

    subscript(y: Int, x: Int) -> Double { values[y * width + x] }

    /// The `feature` parameter of the RoI modules (`roi.pool`, `roi.align`, `roi.deform`): one
    /// 6×6 map by default, so their cells compare on the same numbers.
    static let parameter = ParameterSpec.matrix(
        "feature", [[1, 2, 3, 4, 5, 6],
                    [7, 9, 8, 3, 2, 1],
                    [4, 12, 6, 5, 14, 0],
                    [3, 2, 11, 10, 7, 8],
                    [0, 1, 2, 13, 4, 3],
                    [5, 6, 7, 8, 9, 15]],
        range: FeatureMapLimits.range, maxElements: FeatureMapLimits.elements,
        doc: "the feature map, H×W (at most 65536 elements)")
}

enum FeatureMapLimits {
    /// 256×256 elements (any shape): the map of a toy image at a stride-16 feature level and more.
    static let elements = 65_536
    /// Within ±1e30 a weighted sum of a few thousand values stays finite, and RoI max pooling
    /// agrees with torchvision, whose running maximum starts at −FLT_MAX ≈ −3.4e38.
    static let magnitude = 1e30
    static let range = NumberRange.closed(-magnitude, magnitude)
}
