/// The OpenAPI 3.1 document served at `/openapi.json`: `openapi.json` beside this file, compiled
/// into the binary (`.embedInCode` in Package.swift) and served as it is written. CI lints it with
/// openapi-spec-validator; tests fail on any route in the router and not in it, or the other way
/// round, and on any enum of connector types or flow kinds that is not the hub's own.
enum OpenAPIDocument {
    static var json: [UInt8] { PackageResources.openapi_json }
}
