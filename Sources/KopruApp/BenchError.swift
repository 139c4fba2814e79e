/// A benchmark that could not measure what it set out to.
package struct BenchError: Error, CustomStringConvertible {
    package let description: String

    package init(description: String) { self.description = description }
}
