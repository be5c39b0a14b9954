/// Writes label files: EyeQ's format (what `comcl synth` and `comcl degrade` produce) and the
/// generic one.
public enum ManifestWriter {
    /// `,image,quality,DR_grade` with a leading index column, as EyeQ's files (written by pandas) have.
    public static func eyeq(_ entries: [ManifestEntry]) -> String {
        var lines = [CSVTable.line(["", "image", "quality", "DR_grade"])]
        for (index, entry) in entries.enumerated() {
            let quality = entry.qualityGrade ?? (entry.quality == .high ? 0 : 1)
            lines.append(CSVTable.line([String(index), entry.image, String(quality), String(entry.grade ?? (entry.lesion ? 1 : 0))]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `path,labels,quality`; an image with no finding is labelled "healthy".
    public static func generic(_ entries: [ManifestEntry]) -> String {
        var lines = [CSVTable.line(["path", "labels", "quality"])]
        for entry in entries {
            let quality = entry.qualityGrade.map(String.init) ?? entry.quality.rawValue
            lines.append(CSVTable.line([entry.image, entry.labels.isEmpty ? "healthy" : entry.labels.joined(separator: "|"), quality]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
