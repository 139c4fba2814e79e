/// A contract check that failed, with where and why. The suite throws rather than depending on
/// a test framework, so any test runner (and any store's tests) can call it.
public struct ContractFailure: Error, CustomStringConvertible {
    public let message: String
    public let location: String
    public var description: String { "\(location): \(message)" }
}

func expect(
    _ condition: Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) throws {
    guard condition else { throw ContractFailure(message: message(), location: "\(file):\(line)") }
}

func expectEqual<T: Equatable>(
    _ actual: T, _ expected: T, _ what: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
) throws {
    guard actual == expected else {
        throw ContractFailure(message: "\(what()): expected \(expected), got \(actual)", location: "\(file):\(line)")
    }
}

func expectThrows(
    _ what: String, file: StaticString = #fileID, line: UInt = #line, _ body: () async throws -> Void
) async throws {
    do {
        try await body()
    } catch {
        return
    }
    throw ContractFailure(message: "\(what): expected an error, none was thrown", location: "\(file):\(line)")
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
