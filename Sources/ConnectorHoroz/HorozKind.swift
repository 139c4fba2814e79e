import KopruConnectors
import KopruCore

extension HorozConnector {
    /// Horoz's county list, shared by every Horoz connection of the process (kept per base URL).
    static let counties = HorozCountyCache()

    /// Horoz Lojistik, supplier-pays distribution; every setting is in this folder's README.
    public static let kind = ConnectorKind(
        id: "horoz", name: "Horoz Lojistik",
        capabilities: [.shipmentSink, .carrierLabels, .carrierTracking],
        settings: [
            SettingSpec("baseURL", .url, required: true),
            SettingSpec("supplierCode", .integer, required: true, help: "the cari code Horoz registered for supplier-pays shipping"),
            SettingSpec("carrierTitle", default: "Horoz Lojistik", help: "the name a channel shows next to the tracking number"),
            SettingSpec("desi.default", help: "a desi, or a parcel such as 30x20x40 (cm)"), SettingSpec("desi.divisor", .decimal, default: "3000"),
            SettingSpec("deliveryDays", .integer), SettingSpec("countyListMaxAgeHours", .integer, default: "24"),
            SettingSpec("timeoutSeconds", .integer, default: "30"),
            SettingSpec("parcel."), SettingSpec("category."), SettingSpec("alias."), SettingSpec("warehouse."),
            SettingSpec("field."), SettingSpec("label."), SettingSpec("tracking."),
        ],
        endpointLimits: { settings throws(ConnectorError) in try endpointLimits(settings: settings) },
        build: { input throws(ConnectorError) in
            try HorozConnector(settings: input.settings, secrets: input.secrets, transport: input.transport, counties: counties)
        })
}
