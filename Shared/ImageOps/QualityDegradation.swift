import Basics

/// The imaging modality a low-quality model is for: each degrades the way its images really
/// go wrong (FundusDegradation, XRayDegradation).
public enum Modality: String, CaseIterable, Sendable, Codable {
    case fundus, xray
}

/// One image's degradation, of either modality (what degrade.json records per image).
public struct QualityDegradation: Equatable, Sendable, Codable {
    public var modality: Modality
    public var fundus: FundusDegradation?
    public var xray: XRayDegradation?

    public static func fundus(_ d: FundusDegradation) -> QualityDegradation { QualityDegradation(modality: .fundus, fundus: d, xray: nil) }
    public static func xray(_ d: XRayDegradation) -> QualityDegradation { QualityDegradation(modality: .xray, fundus: nil, xray: d) }

    public static func random(
        _ modality: Modality, severity: FundusDegradation.Severity, using g: inout SeededGenerator
    ) -> QualityDegradation {
        switch modality {
        case .fundus: .fundus(FundusDegradation.random(severity: severity, using: &g))
        case .xray: .xray(XRayDegradation.random(severity: severity, using: &g))
        }
    }

    public func apply(to image: inout FloatImage) {
        if let fundus { fundus.apply(to: &image, field: FieldOfView(of: image)) }
        if let xray { xray.apply(to: &image) }
    }
}
