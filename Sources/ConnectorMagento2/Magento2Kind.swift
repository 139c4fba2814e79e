import KopruConnectors
import KopruCore

extension Magento2Connector {
    /// Magento 2 as the hub knows it: every setting is in this folder's README.
    public static let kind = ConnectorKind(
        id: "magento2", name: "Magento 2",
        capabilities: [.orderFeed, .orderNotes, .customerFeed, .stockSink, .bulkStockSink, .stockReader, .orderShipmentSink, .priceSink],
        settings: [
            SettingSpec("baseURL", .url, required: true, help: "the store's address, e.g. https://shop.example.com"),
            SettingSpec("storeCode", default: "default"),
            SettingSpec("auth", .oneOf(["oauth", "bearer", "admin"]), help: "chosen from the secrets given when unset"),
            SettingSpec("adminUsername"),
            SettingSpec("oauthSignatureMethod", .oneOf(["HMAC-SHA256", "HMAC-SHA1"]), default: "HMAC-SHA256"),
            SettingSpec("timeoutSeconds", .integer, default: "30"),
            SettingSpec("pageSize", .integer, default: "100"),
            SettingSpec("inputLimit", .integer, default: "20"),
            SettingSpec("stock.mode", .oneOf(["bulk", "source-items", "legacy"]), default: "bulk"),
            SettingSpec("stock.sourceCode", default: "default"),
            SettingSpec("stock.bulkOperationSize", .integer, default: "1000"),
            SettingSpec("customer.taxNumber", default: "taxvat", help: "taxvat, address:vat_id or attribute:CODE"),
        ],
        // What Köprü's companion module (integrations/magento2) sends.
        webhooks: .hmac(defaults: [
            "webhook.signatureHeader": "X-Kopru-Signature", "webhook.encoding": "hex", "webhook.signaturePrefix": "sha256=",
            "webhook.signedBytes": "timestamp.body", "webhook.timestampHeader": "X-Kopru-Timestamp",
            "webhook.toleranceSeconds": "300", "webhook.deliveryIdHeader": "X-Kopru-Delivery",
            "webhook.topicHeader": "X-Kopru-Topic",
        ]),
        endpointLimits: { settings throws(ConnectorError) in try endpointLimits(settings: settings) },
        build: { input throws(ConnectorError) in
            try Magento2Connector(connection: input.connection, settings: input.settings, secrets: input.secrets, transport: input.transport)
        })
}
