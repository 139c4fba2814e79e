import Foundation
import KopruCore
import KopruSandbox
import Testing

/// The Horoz sandbox reads bodies by seed 004's field types, requires `customerRefNo`, and
/// catches upper case made without the Turkish dotted İ.
@Suite("Horoz sandbox wire")
struct HorozSandboxWireTests {
    typealias World = HorozConnectorTests.World

    @Test(arguments: [
        ("shipmentCount", JSON.string("2"), "shipmentCount"),
        ("totalDesi", JSON.string("20.5"), "totalDesi"),
        ("senderCode", JSON.string("801452"), "senderCode"),
        ("recipientCode", JSON.string("0"), "recipientCode"),
        ("requestNumber", JSON(1001), "requestNumber"),
        ("recipientPhoneNumber", JSON(5_443_335_511), "recipientPhoneNumber"),
        ("shipmentCount", JSON(Decimal(string: "2.5")!), "shipmentCount"),
    ])
    func aFieldOfTheWrongTypeIsRefusedByName(field: String, value: JSON, named: String) async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        let answer = try await world.post(HorozConnectorTests.raw { $0[field] = value })
        #expect(answer.code == HorozSandbox.Placeholder.wrongType, "\(answer.message)")
        #expect(answer.message.contains(named))
        #expect(world.horoz.records.isEmpty)
    }

    @Test func aDetailFieldOfTheWrongTypeIsRefusedWithItsPosition() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        func line(_ change: (inout [String: JSON]) -> Void) -> JSON {
            HorozConnectorTests.raw { body in
                guard var detail = body["shippingDetail"]?[0]?.object else { return }
                change(&detail)
                body["shippingDetail"] = [.object(detail)]
            }
        }
        let quantity = try await world.post(line { $0["quantity"] = "2" })
        #expect(quantity.code == HorozSandbox.Placeholder.wrongType && quantity.message.contains("shippingDetail[0].quantity"))
        let desi = try await world.post(line { $0["desi"] = "20.5" })
        #expect(desi.code == HorozSandbox.Placeholder.wrongType && desi.message.contains("shippingDetail[0].desi"))
        let name = try await world.post(line { $0["productName"] = 123 })
        #expect(name.code == HorozSandbox.Placeholder.wrongType && name.message.contains("shippingDetail[0].productName"))
        // The same body with its types is taken.
        #expect(try await world.post(HorozConnectorTests.raw()).code == "STA-100")
    }

    @Test func customerRefNoIsRequired() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        let missing = try await world.post(HorozConnectorTests.raw { $0["customerRefNo"] = nil })
        #expect(missing.code == "ERR-20002" && missing.message == "EKSİK PARAMETRE: customerRefNo")
        let blank = try await world.post(HorozConnectorTests.raw { $0["customerRefNo"] = " " })
        #expect(blank.code == "ERR-20002")
        #expect(world.horoz.records.isEmpty)
    }

    @Test func upperCaseWithoutTheTurkishDotIsCaught() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        // In an address the county list cannot check, the naive spelling of a place is refused.
        let address = try await world.post(HorozConnectorTests.raw { $0["recipientAdress"] = "HALASKARGAZİ CAD. NO:1 ŞIŞLI/ISTANBUL" })
        #expect(address.code == HorozSandbox.Placeholder.lowerCase, "\(address.message)")
        #expect(address.message.contains("recipientAdress") && address.message.contains("ŞİŞLİ"))
        // As a city it is not in the county list; the answer says why, and the number is remembered.
        let city = try await world.post(HorozConnectorTests.raw { $0["recipientCity"] = "ISTANBUL"; $0["recipientCounty"] = "ŞIŞLI" })
        #expect(city.code == HorozSandbox.Placeholder.brokenCityCounty && city.message.contains("İSTANBUL"))
        let fixed = try await world.post(HorozConnectorTests.raw { $0["recipientCity"] = "İSTANBUL"; $0["recipientCounty"] = "ŞİŞLİ" })
        #expect(fixed.code == "STA-100")
        // Dotless I where Turkish has it is fine: IĞDIR, ISPARTA.
        let dotless = try await world.post(
            HorozConnectorTests.raw { $0["requestNumber"] = "RAW-2"; $0["recipientAdress"] = "ISPARTA YOLU IĞDIR" })
        #expect(dotless.code == "STA-100", "\(dotless.message)")
    }

    @Test func cancelAndBarcodeReadTheirNumbersAsText() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        let cancel = try await world.post(["requestNumber": 1001], method: "cancelPaysSupplierShipping")
        #expect(cancel.code == HorozSandbox.Placeholder.wrongType && cancel.message.contains("requestNumber"))
        let barcode = try await world.post(["requestNumber": "RAW-1", "atfId": 10_000_000_001], method: "cancelBarcode")
        #expect(barcode.code == HorozSandbox.Placeholder.wrongType && barcode.message.contains("atfId"))
    }
}
