import Foundation
import KopruStore

/// Every phrase the dashboard shows, once per language: a phrase missing in one language does
/// not compile. Turkish is the default; `?lang=en` (remembered in a cookie) switches.
struct DashboardWords: Sendable {
    enum Language: String, Sendable, CaseIterable {
        case tr, en
    }

    var language: Language
    var title = "Köprü"
    var overview: String
    var logs: String
    var deadLetters: String
    var connections: String
    var signOut: String
    var signIn: String
    var signInTitle: String
    var tokenLabel: String
    var tokenHint: String
    var signInFailed: String
    var signInThrottled: String
    var readOnlyBadge: String
    var otherLanguage: String
    var pending: String
    var running: String
    var succeeded: String
    var dead: String
    var queue: String
    var connection: String
    var type: String
    var state: String
    var active: String
    var paused: String
    var circuit: String
    var circuitClosed: String
    var circuitOpen: String
    var circuitHalfOpen: String
    var lastCall: String
    var lastError: String
    var none: String
    var time: String
    var level: String
    var kind: String
    var message: String
    var duration: String
    var allLevels: String
    var allConnections: String
    var filter: String
    var older: String
    var job: String
    var attempts: String
    var reason: String
    var uncertain: String
    var replay: String
    var replaySelected: String
    var replayed: String
    var noDeadLetters: String
    var noEvents: String
    var settings: String
    var secrets: String
    var flows: String
    var schedule: String
    var pause: String
    var resume: String
    var syncNow: String
    var syncQueued: String
    var syncRuns: String
    var read: String
    var queued: String
    var confirmed: String
    var refused: String
    var finished: String
    var inProgress: String
    var calls: String
    var status: String
    var forbiddenReadOnly: String
    var forbiddenForgery: String
    var notFound: String
    var back: String
    var updatedLive: String
    var orders: String
    var order: String
    var number: String
    var channel: String
    var total: String
    var firstSeen: String
    var exported: String
    var pendingExport: String
    var notToExport: String
    var search: String
    var onlyPending: String
    var ordersToday: String
    var ordersAll: String
    var noOrders: String
    var timeline: String
    var seenVia: [String: String]
    var steps: [String: String]
    var sendTestWebhook: String
    var testWebhookSent: String

    static let tr = DashboardWords(
        language: .tr, overview: "Genel bakış", logs: "Kayıtlar", deadLetters: "Hata listesi", connections: "Bağlantılar",
        signOut: "Çıkış", signIn: "Giriş yap", signInTitle: "Köprü paneline giriş", tokenLabel: "Yönetici anahtarı (token)",
        tokenHint: "kopru tokens create --name AD ile oluşturulan anahtar", signInFailed: "Anahtar tanınmadı ya da iptal edilmiş.",
        signInThrottled: "Çok fazla başarısız deneme. Bir dakika sonra yeniden deneyin.", readOnlyBadge: "salt okunur",
        otherLanguage: "English", pending: "Bekleyen", running: "Çalışan", succeeded: "Tamamlanan", dead: "Hata listesinde",
        queue: "Kuyruk", connection: "Bağlantı", type: "Tür", state: "Durum", active: "Etkin", paused: "Duraklatıldı",
        circuit: "Devre kesici", circuitClosed: "kapalı", circuitOpen: "açık", circuitHalfOpen: "yarı açık",
        lastCall: "Son başarılı çağrı", lastError: "Son hata", none: "—", time: "Zaman", level: "Düzey", kind: "Tür",
        message: "İleti", duration: "Süre", allLevels: "Tüm düzeyler", allConnections: "Tüm bağlantılar", filter: "Süz",
        older: "Daha eski", job: "İş", attempts: "Deneme", reason: "Neden", uncertain: "Hedefte olup olmadığı bilinmiyor",
        replay: "Yeniden dene", replaySelected: "Seçilenleri yeniden dene", replayed: "Yeniden kuyruğa alındı",
        noDeadLetters: "Hata listesi boş.", noEvents: "Kayıt yok.", settings: "Ayarlar", secrets: "Gizli değerler",
        flows: "Akışlar", schedule: "Zamanlama", pause: "Duraklat", resume: "Sürdür", syncNow: "Şimdi eşitle",
        syncQueued: "Eşitleme kuyruğa alındı", syncRuns: "Eşitleme çalışmaları", read: "Okunan", queued: "Kuyruğa alınan",
        confirmed: "Onaylanan", refused: "Reddedilen", finished: "Bitti", inProgress: "Sürüyor", calls: "Dış çağrılar ve olaylar",
        status: "Durum", forbiddenReadOnly: "Bu anahtar salt okunur: değişiklik yapamaz.",
        forbiddenForgery: "İstek bu panelden gelmedi (form anahtarı eksik ya da yanlış); hiçbir şey değiştirilmedi.",
        notFound: "Bulunamadı.", back: "Geri", updatedLive: "kendiliğinden güncellenir", orders: "Siparişler", order: "Sipariş",
        number: "Sipariş no", channel: "Kanal", total: "Tutar", firstSeen: "Alındı", exported: "ERP'de", pendingExport: "Aktarım bekliyor",
        notToExport: "aktarılmayacak", search: "Ara", onlyPending: "Yalnız bekleyenler", ordersToday: "Bugünkü siparişler",
        ordersAll: "Tüm siparişler", noOrders: "Sipariş yok.", timeline: "Zaman çizelgesi",
        seenVia: ["webhook": "webhook ile", "poll": "yoklamayla", "reconciliation": "mutabakatla"],
        steps: [
            "received": "Kanaldan alındı", "export": "ERP'ye aktarım", "note.exported": "Kanala not: aktarıldı",
            "note.failed": "Kanala not: aktarılamadı", "cancel": "İptal", "ship": "Kargoya verildi", "return": "İade kargosu",
        ], sendTestWebhook: "Deneme webhook'u gönder", testWebhookSent: "Deneme webhook'u: girişin yanıtı")

    static let en = DashboardWords(
        language: .en, overview: "Overview", logs: "Logs", deadLetters: "Dead letters", connections: "Connections",
        signOut: "Sign out", signIn: "Sign in", signInTitle: "Sign in to Köprü", tokenLabel: "Admin token",
        tokenHint: "a token made with kopru tokens create --name NAME", signInFailed: "The token is unknown or revoked.",
        signInThrottled: "Too many failed attempts. Try again in a minute.", readOnlyBadge: "read-only",
        otherLanguage: "Türkçe", pending: "Pending", running: "Running", succeeded: "Succeeded", dead: "Dead letters",
        queue: "Queue", connection: "Connection", type: "Type", state: "State", active: "Active", paused: "Paused",
        circuit: "Circuit breaker", circuitClosed: "closed", circuitOpen: "open", circuitHalfOpen: "half-open",
        lastCall: "Last successful call", lastError: "Last error", none: "—", time: "Time", level: "Level", kind: "Kind",
        message: "Message", duration: "Duration", allLevels: "All levels", allConnections: "All connections", filter: "Filter",
        older: "Older", job: "Job", attempts: "Attempts", reason: "Reason", uncertain: "May or may not be at the target",
        replay: "Replay", replaySelected: "Replay selected", replayed: "Queued again", noDeadLetters: "No dead letters.",
        noEvents: "Nothing logged.", settings: "Settings", secrets: "Secrets", flows: "Flows", schedule: "Schedule",
        pause: "Pause", resume: "Resume", syncNow: "Sync now", syncQueued: "Sync queued", syncRuns: "Sync runs", read: "Read",
        queued: "Queued", confirmed: "Confirmed", refused: "Refused", finished: "Finished", inProgress: "In progress",
        calls: "External calls and events", status: "Status", forbiddenReadOnly: "This token is read-only: it cannot change anything.",
        forbiddenForgery: "The request did not come from this dashboard (its form key is missing or wrong); nothing was changed.",
        notFound: "Not found.", back: "Back", updatedLive: "updates by itself", orders: "Orders", order: "Order", number: "Order no",
        channel: "Channel", total: "Total", firstSeen: "Received", exported: "In the ERP", pendingExport: "Waiting for export",
        notToExport: "not to export", search: "Search", onlyPending: "Pending only", ordersToday: "Orders today", ordersAll: "All orders",
        noOrders: "No orders.", timeline: "Timeline",
        seenVia: ["webhook": "by webhook", "poll": "by poll", "reconciliation": "by reconciliation"],
        steps: [
            "received": "Received from the channel", "export": "Export to the ERP", "note.exported": "Note on the channel: exported",
            "note.failed": "Note on the channel: not exported", "cancel": "Cancellation", "ship": "Handed to the carrier",
            "return": "Return shipment",
        ], sendTestWebhook: "Send test webhook", testWebhookSent: "Test webhook: the intake answered")

    static func of(_ language: Language) -> DashboardWords { language == .en ? en : tr }

    func circuitState(_ phase: String) -> String {
        switch phase {
        case "open": circuitOpen
        case "half-open": circuitHalfOpen
        default: circuitClosed
        }
    }

    func jobStatus(_ status: JobStatus) -> String {
        switch status {
        case .pending: pending
        case .running: running
        case .succeeded: succeeded
        case .dead: dead
        default: status.rawValue
        }
    }

    /// Times as the merchant reads them: Istanbul's (UTC+3, no daylight saving since 2016).
    func when(_ date: Date) -> String {
        var style = Date.FormatStyle(date: .numeric, time: .standard)
        style.timeZone = TimeZone(identifier: "Europe/Istanbul") ?? .gmt
        style.locale = Locale(identifier: language == .tr ? "tr_TR" : "en_GB")
        return date.formatted(style)
    }
}
