import KopruConnectors
import KopruCore

extension RESTERPConnector {
    /// A REST ERP (Logo, Netsis, Mikro or a home-grown one) described by its profile settings;
    /// every key is in this folder's README.
    public static let kind = ConnectorKind(
        id: "erp-rest", name: "REST ERP (Logo, Netsis, Mikro, custom)",
        capabilities: [.orderSink, .stockSource, .priceSource, .customerSink, .shipmentFeed],
        settings: [
            SettingSpec("baseURL", .url, help: "the ERP's API root, e.g. https://erp.example.com/api/v2/ (or the seed's api_endpoint)"),
            SettingSpec("api_endpoint", .url, help: "the seed's name for baseURL"),
            SettingSpec("auth", help: "how requests authenticate (README)"),
            SettingSpec("auth.header"), SettingSpec("username"),
            SettingSpec("timeoutSeconds", .integer, default: "10"),
            SettingSpec("pagination", help: "how list routes page (README)"),
            SettingSpec("pagination.pageSize", .integer), SettingSpec("pagination.pageParam"), SettingSpec("pagination.sizeParam"),
            SettingSpec("pagination.total"), SettingSpec("pagination.totalHeader"),
            SettingSpec("lookup", .oneOf(["record", "search", "none"]), default: "record"),
            SettingSpec("lookup.absent"), SettingSpec("lookup.list"),
            SettingSpec("idempotency", .oneOf(["honoured", "honored", "ignored"]), default: "ignored"),
            SettingSpec("idempotencyHeader"),
            SettingSpec("money.decimals", .integer, default: "2"),
            SettingSpec("money.splitLines", .boolean, default: "true"),
            SettingSpec("response.reference"), SettingSpec("stock.list"),
            SettingSpec("paths."), SettingSpec("fields."), SettingSpec("transform."), SettingSpec("skuMap."),
        ],
        endpointLimits: { settings throws(ConnectorError) in try endpointLimits(settings: settings) },
        build: { input throws(ConnectorError) in
            try RESTERPConnector(settings: input.settings, secrets: input.secrets, transport: input.transport)
        })
}
