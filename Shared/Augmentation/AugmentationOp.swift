import Basics
import ImageOps

/// One entry of a recipe's op list: a name, and parameters read from and written back to JSON.
public protocol RecipeEntry: Sendable {
    /// The name in recipes: `{"op": name, ...}`.
    static var name: String { get }
    /// Reads the entry's parameters; absent keys take the defaults, which cite their source.
    init(_ parameters: inout OpParameters) throws
    /// Every parameter with its value, defaults included, as written back into a recipe.
    var parameters: [String: JSONValue] { get }
}

/// An image-to-image step of a view. Everything random is drawn from `g`, in a fixed order, so a
/// view depends only on the generator's seed (run seed, step, item, view).
public protocol AugmentationOp: RecipeEntry {
    func apply(to image: inout FloatImage, using g: inout SeededGenerator)
}

/// Every op a recipe may name, in the order the docs list them.
public enum AugmentationOps {
    public static let all: [any AugmentationOp.Type] = [
        FundusQualityDegradation.self, RandomHorizontalFlip.self, RandomVerticalFlip.self, ColorJitter.self,
        RandomResizedCrop.self, RandomAffine.self, RandomGrayscale.self, RandomGaussianBlur.self,
    ]

    public static func type(named name: String) -> (any AugmentationOp.Type)? { all.first { $0.name == name } }

    /// All names a recipe accepts, normalisation included.
    public static var names: [String] { all.map { $0.name } + [Normalize.name] }
}
