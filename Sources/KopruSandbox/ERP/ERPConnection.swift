import Foundation
import KopruCore

extension ERPSandbox: SandboxedSystem {
    public static let connectorType = "erp-rest"

    /// The API root and the credentials this ERP is set to accept.
    public func connection(at baseURL: URL) -> SandboxConnection {
        let settings = self.settings
        var values = ["baseURL": baseURL.absoluteString + settings.basePath]
        var secrets: [String: String] = [:]
        switch settings.auth {
        case .bearer(let token): secrets["api_key"] = token
        case .basic(let user, let password): (values["auth"], values["username"], secrets["password"]) = ("basic", user, password)
        case .header(let name, let value): (values["auth"], values["auth.header"], secrets["api_key"]) = ("header", name, value)
        }
        return SandboxConnection(settings: values, secrets: secrets)
    }
}

extension ERPSandbox {
    public static let credentialKeys = ["api_key"]

    public static func standalone(credentials: JSON?, shop: inout SampleShop, orders: Int) throws(SandboxSetupProblem) -> (
        system: ERPSandbox, accepted: JSON
    ) {
        var settings = Settings()
        let key = credentials?["api_key"]?.string ?? "erp-sandbox-key"
        settings.auth = .bearer(key)
        let erp = ERPSandbox(settings: settings)
        for item in shop.items { erp.setStock(code: item.sku, quantity: shop.int(0...50)) }
        return (erp, ["api_key": .string(key), "auth": "bearer", "baseURL_path": .string(settings.basePath)])
    }
}
