/// The connector types the hub knows (DESIGN.md's ids), and the sync flows each can run. Routes,
/// configuration and `kopru sandbox` all take these ids.
public struct ConnectorType: Hashable, Sendable {
    public let id: String
    public let system: String
    /// Flows `POST /api/integrations/{id}/sync` may start for a connection of this type.
    public let flows: [String]

    public static let all: [ConnectorType] = [
        ConnectorType(id: "magento2", system: "Magento 2", flows: ["orders", "products", "stock", "prices", "customers", "shipments", "shipping"]),
        ConnectorType(id: "shopify", system: "Shopify", flows: ["orders", "products", "stock", "prices", "customers", "shipments"]),
        ConnectorType(id: "opencart", system: "OpenCart", flows: ["orders", "products", "stock", "prices", "customers"]),
        ConnectorType(id: "hepsiburada", system: "Hepsiburada", flows: ["orders", "products", "stock", "prices", "shipments"]),
        ConnectorType(id: "ozon", system: "Ozon", flows: ["orders", "products", "stock", "prices", "shipments"]),
        ConnectorType(id: "iyzico", system: "iyzico", flows: ["payments"]),
        ConnectorType(id: "payfull", system: "Payfull", flows: ["payments"]),
        ConnectorType(id: "erp-rest", system: "REST ERP (Logo, Netsis, Mikro, custom)", flows: ["orders", "stock", "prices", "products", "customers", "invoices"]),
        ConnectorType(id: "sap-b1", system: "SAP Business One", flows: ["orders", "stock", "prices", "products", "customers", "invoices"]),
        ConnectorType(id: "luca", system: "Luca", flows: ["invoices", "customers"]),
        ConnectorType(id: "horoz", system: "Horoz Lojistik", flows: ["shipping"]),
    ]

    public static func named(_ id: String) -> ConnectorType? { all.first { $0.id == id } }

    /// `webhook.*` settings a connection of this type starts with (its own settings win).
    /// Magento: what Köprü's companion module (integrations/magento2) sends.
    public static func webhookDefaults(for type: String) -> [String: String] {
        switch type {
        case "magento2":
            [
                "webhook.signatureHeader": "X-Kopru-Signature", "webhook.encoding": "hex", "webhook.signaturePrefix": "sha256=",
                "webhook.signedBytes": "timestamp.body", "webhook.timestampHeader": "X-Kopru-Timestamp",
                "webhook.toleranceSeconds": "300", "webhook.deliveryIdHeader": "X-Kopru-Delivery",
                "webhook.topicHeader": "X-Kopru-Topic",
            ]
        default: [:]
        }
    }
}
