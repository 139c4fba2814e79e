import Foundation
import KopruCore

extension MagentoSandbox: SandboxedSystem {
    public static let connectorType = "magento2"

    /// An integration's four OAuth values, as Magento's admin shows them.
    public func connection(at baseURL: URL) -> SandboxConnection {
        let credentials = self.credentials
        return SandboxConnection(
            settings: ["baseURL": baseURL.absoluteString],
            secrets: [
                "consumerKey": credentials.consumerKey, "consumerSecret": credentials.consumerSecret,
                "accessToken": credentials.accessToken, "accessTokenSecret": credentials.accessTokenSecret,
            ])
    }
}

extension MagentoSandbox {
    public static let credentialKeys = [
        "adminUsername", "adminPassword", "consumerKey", "consumerSecret", "accessToken", "accessTokenSecret", "bearerIntegrationTokens",
    ]

    public static func standalone(credentials: JSON?, shop: inout SampleShop, orders: Int) throws(SandboxSetupProblem) -> (
        system: MagentoSandbox, accepted: JSON
    ) {
        var values = Credentials()
        do {
            if let credentials {
                var merged = try JSON.parse(JSONEncoder().encode(values)).object ?? [:]
                merged.merge(credentials.object ?? [:]) { $1 }
                values = try JSONDecoder().decode(Credentials.self, from: JSON.object(merged).data)
            }
            let magento = MagentoSandbox(credentials: values)
            for item in shop.items { magento.setStock(sku: item.sku, quantity: 0) }
            for _ in 0..<orders { magento.placeOrder(shop.order()) }
            return (magento, try JSON.parse(JSONEncoder().encode(values)))
        } catch {
            throw SandboxSetupProblem("credentials: \(error)")
        }
    }
}
