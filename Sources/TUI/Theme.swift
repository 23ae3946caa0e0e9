/// The styles the screens use. Without colour (`NO_COLOR`, `--no-color`, monochrome
/// terminals) everything that colour would tell apart is told apart by bold, underline,
/// reverse and dim instead.
public struct Theme: Sendable {
    public var color: Bool
    public var title: Style
    public var heading1: Style
    public var heading2: Style
    public var heading3: Style
    public var value: Style
    public var valueMissing: Style
    public var code: Style
    public var math: Style
    public var strong: Style
    public var emphasis: Style
    public var link: Style
    public var dim: Style
    public var error: Style
    public var ok: Style
    public var warning: Style
    public var accent: Style
    public var focusHeader: Style
    public var cellHeader: Style
    public var edited: Style
    public var selected: Style
    public var statusBar: Style
    public var searchMatch: Style
    public var chart: Style
    public var heat: Style

    public init(color: Bool) {
        self.color = color
        if color {
            title = Style(fg: .cyan, bold: true)
            heading1 = Style(fg: .yellow, bold: true, underline: true)
            heading2 = Style(fg: .yellow, bold: true)
            heading3 = Style(bold: true, underline: true)
            value = Style(fg: .yellow, bold: true)
            valueMissing = Style(fg: .red, underline: true)
            code = Style(fg: .green)
            math = Style(fg: .magenta)
            strong = Style(bold: true)
            emphasis = Style(underline: true)
            link = Style(fg: .blue, underline: true)
            dim = Style(dim: true)
            error = Style(fg: .red, bold: true)
            ok = Style(fg: .green, bold: true)
            warning = Style(fg: .yellow)
            accent = Style(fg: .cyan)
            focusHeader = Style(fg: .black, bg: .cyan, bold: true)
            cellHeader = Style(fg: .cyan, bold: true)
            edited = Style(fg: .magenta, bold: true)
            selected = Style(reverse: true)
            statusBar = Style(fg: .black, bg: .white)
            searchMatch = Style(fg: .black, bg: .yellow)
            chart = Style(fg: .cyan)
            heat = Style(fg: .yellow)
        } else {
            title = Style(bold: true)
            heading1 = Style(bold: true, underline: true)
            heading2 = Style(bold: true)
            heading3 = Style(underline: true)
            value = Style(bold: true, underline: true)
            valueMissing = Style(underline: true)
            code = .plain
            math = .plain
            strong = Style(bold: true)
            emphasis = Style(underline: true)
            link = Style(underline: true)
            dim = Style(dim: true)
            error = Style(bold: true)
            ok = Style(bold: true)
            warning = Style(underline: true)
            accent = .plain
            focusHeader = Style(bold: true, reverse: true)
            cellHeader = Style(bold: true)
            edited = Style(bold: true)
            selected = Style(reverse: true)
            statusBar = Style(reverse: true)
            searchMatch = Style(reverse: true, underline: true)
            chart = .plain
            heat = .plain
        }
    }
}
