import Foundation
import KopruCore

extension HorozSandbox: SandboxedSystem {
    public static let connectorType = "horoz"

    /// The methods' root, the process key, and a supplier code this Horoz has registered.
    public func connection(at baseURL: URL) -> SandboxConnection {
        var values = ["baseURL": baseURL.absoluteString]
        values["supplierCode"] = settings.supplierCodes.sorted().first.map(String.init)
        return SandboxConnection(settings: values, secrets: ["processKey": settings.processKey])
    }
}

extension HorozSandbox {
    public static let credentialKeys = ["processKey", "supplierCode"]

    public static func standalone(credentials: JSON?, shop: inout SampleShop, orders: Int) throws(SandboxSetupProblem) -> (
        system: HorozSandbox, accepted: JSON
    ) {
        var settings = Settings()
        settings.processKey = credentials?["processKey"]?.string ?? settings.processKey
        if let code = credentials?["supplierCode"]?.int { settings.supplierCodes = [code] }
        guard !settings.processKey.isEmpty, settings.processKey.count <= 100 else {
            throw SandboxSetupProblem("processKey must be 1-100 characters")
        }
        let horoz = HorozSandbox(settings: settings)
        return (
            horoz,
            [
                "processKey": .string(settings.processKey), "supplierCodes": .array(settings.supplierCodes.sorted().map { JSON($0) }),
                "counties": JSON(horoz.countyCount),
            ]
        )
    }
}
