import Basics
import ImageOps

/// With probability p, makes the view a low-quality version of its patch: a fresh draw of the
/// fundus degradation model (Shen et al. 2020; FundusDegradation, the same model `comcl degrade`
/// and the synthetic set use) applied inside the patch's field of view.
public struct FundusQualityDegradation: AugmentationOp {
    public static let name = "fundus-degradation"

    public enum Severity: String, CaseIterable, Sendable {
        case mild, strong
        /// Mild or strong with equal odds.
        case any
    }

    /// Not in the prior work's recipe; 0.5 makes half the views low quality when a recipe adds it.
    public var p = 0.5
    public var severity = Severity.any
    /// The side of the images patches are cut from, which blur and spot sizes refer to (the
    /// cropper's default image side, 512, after prior work).
    public var referenceHeight = 512

    public init() {}

    public init(_ parameters: inout OpParameters) throws {
        p = try parameters.number("p", default: p, in: 0...1)
        severity = Severity(
            rawValue: try parameters.choice("severity", default: severity.rawValue, from: Severity.allCases.map(\.rawValue)))!
        referenceHeight = try parameters.integer("reference-height", default: referenceHeight, in: 8...8192)
    }

    public var parameters: [String: JSONValue] {
        ["p": .number(p), "severity": .string(severity.rawValue), "reference-height": .number(Double(referenceHeight))]
    }

    public func apply(to image: inout FloatImage, using g: inout SeededGenerator) {
        guard g.chance(p) else { return }
        let level: FundusDegradation.Severity =
            switch severity {
            case .mild: .mild
            case .strong: .strong
            case .any: g.chance(0.5) ? .mild : .strong
            }
        let degradation = FundusDegradation.random(severity: level, using: &g)
        degradation.apply(to: &image, field: FieldOfView(of: image), referenceHeight: referenceHeight)
    }
}
