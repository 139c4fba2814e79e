/// A value helper every layer uses: no target imports the engine for it.
extension Duration {
    /// Seconds as a floating-point number, for date arithmetic.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
