import Basics
import CCairo
import Foundation

/// An RGB colour, components in 0...1.
public struct Colour: Sendable, Equatable {
    public var r: Double, g: Double, b: Double
    public init(_ r: Double, _ g: Double, _ b: Double) { (self.r, self.g, self.b) = (r, g, b) }
    public static let black = Colour(0, 0, 0), white = Colour(1, 1, 1), grey = Colour(0.55, 0.55, 0.55), lightGrey = Colour(0.9, 0.9, 0.9)

    /// Matplotlib's "tab10" qualitative palette: distinguishable, also in print.
    public static let palette: [Colour] = [
        Colour(0.122, 0.467, 0.706), Colour(1.0, 0.498, 0.055), Colour(0.173, 0.627, 0.173), Colour(0.839, 0.153, 0.157),
        Colour(0.580, 0.404, 0.741), Colour(0.549, 0.337, 0.294), Colour(0.890, 0.467, 0.761), Colour(0.498, 0.498, 0.498),
    ]
    public static func series(_ i: Int) -> Colour { palette[i % palette.count] }
}

public struct Rect: Sendable, Equatable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) { (self.x, self.y, self.width, self.height) = (x, y, width, height) }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public func inset(left: Double, top: Double, right: Double, bottom: Double) -> Rect {
        Rect(x: x + left, y: y + top, width: max(width - left - right, 1), height: max(height - top - bottom, 1))
    }
}

/// A drawing surface over Cairo (an image surface, antialiased text in DejaVu Sans through
/// fontconfig), written out as PNG.
public final class Canvas {
    public let width: Int, height: Int
    private let surface: OpaquePointer
    private let cr: OpaquePointer

    public init(width: Int, height: Int) {
        (self.width, self.height) = (width, height)
        surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))
        cr = cairo_create(surface)
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        fill(Rect(x: 0, y: 0, width: Double(width), height: Double(height)), .white)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: Double(width), height: Double(height)) }

    public func fill(_ rect: Rect, _ colour: Colour) {
        set(colour)
        cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height)
        cairo_fill(cr)
    }

    public func stroke(_ rect: Rect, _ colour: Colour, width: Double = 1) {
        set(colour)
        cairo_set_line_width(cr, width)
        cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height)
        cairo_stroke(cr)
    }

    /// A polyline through `points`.
    public func line(_ points: [(Double, Double)], _ colour: Colour, width: Double = 1.5) {
        guard let first = points.first else { return }
        set(colour)
        cairo_set_line_width(cr, width)
        cairo_move_to(cr, first.0, first.1)
        for p in points.dropFirst() { cairo_line_to(cr, p.0, p.1) }
        cairo_stroke(cr)
    }

    public func dot(_ x: Double, _ y: Double, radius: Double, _ colour: Colour, alpha: Double = 1) {
        cairo_set_source_rgba(cr, colour.r, colour.g, colour.b, alpha)
        cairo_arc(cr, x, y, radius, 0, 2 * Double.pi)
        cairo_fill(cr)
    }

    public enum Anchor { case left, centre, right }

    /// Text whose baseline starts (left), centres or ends (right) at x; `vertical` rotates it a
    /// quarter turn anticlockwise (a y-axis label).
    public func text(
        _ s: String, x: Double, y: Double, size: Double = 13, anchor: Anchor = .left, colour: Colour = .black, bold: Bool = false,
        vertical: Bool = false
    ) {
        cairo_save(cr)
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
        let w = textWidth(s)
        set(colour)
        cairo_translate(cr, x, y)
        if vertical { cairo_rotate(cr, -Double.pi / 2) }
        let dx: Double =
            switch anchor {
            case .left: 0;
            case .centre: -w / 2;
            case .right: -w
            }
        cairo_move_to(cr, dx, 0)
        cairo_show_text(cr, s)
        cairo_restore(cr)
    }

    /// Width of `s` at the current font size.
    private func textWidth(_ s: String) -> Double {
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, s, &extents)
        return extents.x_advance
    }

    public func writePNG(to url: URL) throws {
        cairo_surface_flush(surface)
        let status = cairo_surface_write_to_png(surface, url.path)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw Problem("\(url.path): cannot write PNG (\(String(cString: cairo_status_to_string(status))))")
        }
    }

    private func set(_ c: Colour) { cairo_set_source_rgb(cr, c.r, c.g, c.b) }
}
