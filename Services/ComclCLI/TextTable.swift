/// Left-aligns `text` in a column of `width` characters (Foundation's %-Ns does not pad on Linux).
func pad(_ text: String, _ width: Int) -> String {
    text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0)
}
