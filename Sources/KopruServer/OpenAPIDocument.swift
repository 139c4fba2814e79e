/// The OpenAPI 3.1 document served at `/openapi.json`. A test walks the router and this document
/// and fails on any route in one and not the other.
enum OpenAPIDocument {
    static let json = #"""
{
  "components": {
    "responses": {
      "Error": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "An error; see the status code."
      }
    },
    "schemas": {
      "Error": {
        "properties": {
          "error": {
            "properties": {
              "code": {
                "type": "string"
              },
              "field": {
                "type": "string"
              },
              "message": {
                "type": "string"
              }
            },
            "required": [
              "code",
              "message"
            ],
            "type": "object"
          }
        },
        "required": [
          "error"
        ],
        "type": "object"
      },
      "Event": {
        "properties": {
          "at": {
            "format": "date-time",
            "type": "string"
          },
          "connection": {
            "type": "string"
          },
          "details": {
            "additionalProperties": {
              "type": "string"
            },
            "type": "object"
          },
          "durationMs": {
            "type": "integer"
          },
          "id": {
            "type": "integer"
          },
          "kind": {
            "type": "string"
          },
          "level": {
            "type": "string"
          },
          "message": {
            "type": "string"
          },
          "subject": {
            "type": "string"
          }
        },
        "type": "object"
      },
      "Integration": {
        "properties": {
          "active": {
            "type": "boolean"
          },
          "id": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "secrets": {
            "additionalProperties": {
              "type": "string"
            },
            "description": "Masks: ******** and, for secrets of 12 characters or more, the last four.",
            "type": "object"
          },
          "settings": {
            "additionalProperties": {
              "type": "string"
            },
            "type": "object"
          },
          "type": {
            "type": "string"
          },
          "warnings": {
            "description": "What the operator must know about this connection now, e.g. an ERP whose lost answers cannot be checked",
            "items": {
              "type": "string"
            },
            "type": "array"
          },
          "webhookPath": {
            "type": "string"
          }
        },
        "type": "object"
      },
      "IntegrationConfig": {
        "additionalProperties": {
          "type": [
            "string",
            "number",
            "boolean",
            "null"
          ]
        },
        "description": "Keys given replace, null removes, keys not given are kept. Flat keys (FinAsis shape) are accepted: names with key, token, secret or password are secrets, others settings.",
        "properties": {
          "active": {
            "type": "boolean"
          },
          "id": {
            "description": "Defaults to the type.",
            "type": "string"
          },
          "is_active": {
            "type": "boolean"
          },
          "name": {
            "type": "string"
          },
          "secrets": {
            "additionalProperties": {
              "type": [
                "string",
                "null"
              ]
            },
            "type": "object"
          },
          "settings": {
            "additionalProperties": {
              "type": [
                "string",
                "number",
                "boolean",
                "null"
              ]
            },
            "type": "object"
          }
        },
        "type": "object"
      },
      "SyncRun": {
        "properties": {
          "confirmed": {
            "type": "integer"
          },
          "finished": {
            "type": "boolean"
          },
          "flow": {
            "type": "string"
          },
          "id": {
            "type": "string"
          },
          "queued": {
            "type": "integer"
          },
          "read": {
            "type": "integer"
          },
          "readDone": {
            "type": "boolean"
          },
          "refused": {
            "type": "integer"
          },
          "startedAt": {
            "format": "date-time",
            "type": "string"
          },
          "target": {
            "type": "string"
          },
          "updatedAt": {
            "format": "date-time",
            "type": "string"
          }
        },
        "type": "object"
      },
      "Job": {
        "properties": {
          "attempts": {
            "type": "integer"
          },
          "coalescingKey": {
            "type": "string"
          },
          "connection": {
            "type": "string"
          },
          "createdAt": {
            "format": "date-time",
            "type": "string"
          },
          "finishedAt": {
            "format": "date-time",
            "type": "string"
          },
          "id": {
            "type": "integer"
          },
          "idempotencyKey": {
            "type": "string"
          },
          "kind": {
            "type": "string"
          },
          "lastError": {
            "type": "string"
          },
          "orderingKey": {
            "type": "string"
          },
          "payload": {
            "type": "string"
          },
          "priority": {
            "type": "integer"
          },
          "runAt": {
            "format": "date-time",
            "type": "string"
          },
          "status": {
            "type": "string"
          }
        },
        "type": "object"
      },
      "JobPage": {
        "properties": {
          "items": {
            "items": {
              "$ref": "#/components/schemas/Job"
            },
            "type": "array"
          },
          "nextCursor": {
            "type": "string"
          }
        },
        "type": "object"
      },
      "WebhookReceipt": {
        "properties": {
          "event": {
            "type": "string"
          },
          "status": {
            "enum": [
              "accepted",
              "duplicate"
            ],
            "type": "string"
          }
        },
        "type": "object"
      }
    },
    "securitySchemes": {
      "bearer": {
        "scheme": "bearer",
        "type": "http"
      }
    }
  },
  "info": {
    "description": "Admin API (bearer tokens from `kopru tokens create --name NAME`) and webhook intake. Every error is {\"error\": {\"code\", \"message\", \"field\"?}}.",
    "title": "Köprü hub API",
    "version": "1"
  },
  "openapi": "3.1.0",
  "paths": {
    "/api/dead-letters": {
      "get": {
        "operationId": "listDeadLetters",
        "parameters": [
          {
            "description": "Only this kind.",
            "in": "query",
            "name": "kind",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "Only this connection.",
            "in": "query",
            "name": "connection",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "The nextCursor of the previous page.",
            "in": "query",
            "name": "cursor",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "Page size, 1 to 500.",
            "in": "query",
            "name": "limit",
            "required": false,
            "schema": {
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/JobPage"
                }
              }
            },
            "description": "A page of dead jobs."
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "Jobs that failed for good, with why."
      }
    },
    "/api/dead-letters/{id}/replay": {
      "post": {
        "operationId": "replayDeadLetter",
        "parameters": [
          {
            "description": "Job id.",
            "in": "path",
            "name": "id",
            "required": true,
            "schema": {
              "format": "int64",
              "type": "integer"
            }
          },
          {
            "description": "The operator checked the target and the effect is not there: the replay sends without asking first. Without it, a job whose earlier attempt went unanswered asks the target before sending.",
            "in": "query",
            "name": "notAtTarget",
            "required": false,
            "schema": {
              "type": "boolean"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            },
            "description": "The job, pending."
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "Send a dead letter back to the queue with the same idempotency key."
      }
    },
    "/api/integrations": {
      "get": {
        "operationId": "listIntegrations",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "properties": {
                    "integrations": {
                      "items": {
                        "$ref": "#/components/schemas/Integration"
                      },
                      "type": "array"
                    }
                  },
                  "type": "object"
                }
              }
            },
            "description": "Integrations; secrets masked."
          },
          "401": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "List integrations."
      }
    },
    "/api/integrations/webhook/{provider}": {
      "post": {
        "description": "Finds the connection of this type whose webhook.routeBy (header:NAME or json:/POINTER) yields its webhook.routeValue, or the only connection of the type if it has no routing rule; then as /webhooks/{connection}.",
        "operationId": "receiveProviderWebhook",
        "parameters": [
          {
            "in": "path",
            "name": "provider",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "content": {
            "*/*": {
              "schema": {}
            },
            "application/json": {
              "schema": {}
            }
          },
          "description": "The provider's payload; the signature is verified over these exact bytes.",
          "required": true
        },
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/WebhookReceipt"
                }
              }
            },
            "description": "Stored (status accepted) or recognised as a duplicate (status duplicate)."
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "429": {
            "$ref": "#/components/responses/Error"
          }
        },
        "summary": "Webhook intake by provider (FinAsis route)."
      }
    },
    "/api/integrations/{id}": {
      "delete": {
        "operationId": "deleteIntegration",
        "parameters": [
          {
            "description": "Integration (connection) id.",
            "in": "path",
            "name": "id",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "204": {
            "description": "Deleted."
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "Delete an integration with no unfinished jobs."
      },
      "get": {
        "operationId": "getIntegration",
        "parameters": [
          {
            "description": "Integration (connection) id.",
            "in": "path",
            "name": "id",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Integration"
                }
              }
            },
            "description": "The integration; secrets masked."
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "One integration."
      }
    },
    "/api/integrations/{id}/logs": {
      "get": {
        "operationId": "integrationLogs",
        "parameters": [
          {
            "description": "Integration (connection) id.",
            "in": "path",
            "name": "id",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "Minimum level: trace, debug, info, notice, warning, error, critical.",
            "in": "query",
            "name": "level",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "Only this kind (external_call, webhook, job, ...).",
            "in": "query",
            "name": "kind",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "ISO 8601 time, inclusive.",
            "in": "query",
            "name": "from",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "ISO 8601 time.",
            "in": "query",
            "name": "to",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "The nextCursor of the previous page.",
            "in": "query",
            "name": "cursor",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "Page size, 1 to 500.",
            "in": "query",
            "name": "limit",
            "required": false,
            "schema": {
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "properties": {
                    "items": {
                      "items": {
                        "$ref": "#/components/schemas/Event"
                      },
                      "type": "array"
                    },
                    "nextCursor": {
                      "type": "string"
                    }
                  },
                  "type": "object"
                }
              }
            },
            "description": "A page of events."
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "The integration's event log, newest first."
      }
    },
    "/api/integrations/{id}/tracking": {
      "post": {
        "operationId": "enterTrackingNumber",
        "summary": "Record a carrier tracking number on a channel order by hand; it becomes the order's shipment on the channel.",
        "parameters": [
          {
            "description": "The channel connection the order came from (the source of a shipping flow).",
            "in": "path",
            "name": "id",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "properties": {
                  "carrier": {
                    "type": "string"
                  },
                  "order": {
                    "description": "The order number the customer sees (Magento increment id).",
                    "type": "string"
                  },
                  "trackingNumber": {
                    "type": "string"
                  }
                },
                "required": [
                  "order",
                  "trackingNumber"
                ],
                "type": "object"
              }
            }
          },
          "required": true
        },
        "responses": {
          "202": {
            "content": {
              "application/json": {
                "schema": {
                  "properties": {
                    "job": {
                      "type": "string"
                    },
                    "kind": {
                      "type": "string"
                    },
                    "status": {
                      "type": "string"
                    }
                  },
                  "type": "object"
                }
              }
            },
            "description": "Queued."
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/integrations/{id}/sync": {
      "post": {
        "operationId": "syncIntegration",
        "parameters": [
          {
            "description": "Integration (connection) id.",
            "in": "path",
            "name": "id",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "properties": {
                  "flow": {
                    "type": "string"
                  },
                  "full": {
                    "type": "boolean"
                  },
                  "mode": {
                    "enum": [
                      "delta",
                      "full"
                    ],
                    "type": "string"
                  }
                },
                "type": "object"
              }
            }
          },
          "required": false
        },
        "responses": {
          "202": {
            "content": {
              "application/json": {
                "schema": {
                  "properties": {
                    "job": {
                      "type": "string"
                    },
                    "kind": {
                      "type": "string"
                    },
                    "mode": {
                      "type": "string"
                    },
                    "status": {
                      "type": "string"
                    }
                  },
                  "type": "object"
                }
              }
            },
            "description": "Queued."
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "415": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "Start a sync now."
      }
    },
    "/api/integrations/{type}/config": {
      "post": {
        "operationId": "configureIntegration",
        "parameters": [
          {
            "description": "Connector type.",
            "in": "path",
            "name": "type",
            "required": true,
            "schema": {
              "enum": [
                "magento2",
                "shopify",
                "opencart",
                "hepsiburada",
                "ozon",
                "iyzico",
                "payfull",
                "erp-rest",
                "sap-b1",
                "luca",
                "horoz"
              ],
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/IntegrationConfig"
              }
            }
          },
          "required": true
        },
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Integration"
                }
              }
            },
            "description": "Updated."
          },
          "201": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Integration"
                }
              }
            },
            "description": "Created."
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "415": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "Create or update an integration of a type."
      }
    },
    "/api/sync-runs": {
      "get": {
        "operationId": "listSyncRuns",
        "parameters": [
          {
            "description": "Only runs delivering to this connection.",
            "in": "query",
            "name": "target",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "At most this many (1-200, default 20).",
            "in": "query",
            "name": "limit",
            "required": false,
            "schema": {
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "properties": {
                    "items": {
                      "items": {
                        "$ref": "#/components/schemas/SyncRun"
                      },
                      "type": "array"
                    }
                  },
                  "type": "object"
                }
              }
            },
            "description": "Sync runs, newest first, with their counts."
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "Sync runs and their progress: read, queued, confirmed, refused."
      }
    },
    "/api/jobs": {
      "get": {
        "operationId": "listJobs",
        "parameters": [
          {
            "description": "Comma-separated: pending, running, succeeded, dead, superseded.",
            "in": "query",
            "name": "status",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "Only this kind.",
            "in": "query",
            "name": "kind",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "Only this connection.",
            "in": "query",
            "name": "connection",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "The nextCursor of the previous page.",
            "in": "query",
            "name": "cursor",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "Page size, 1 to 500.",
            "in": "query",
            "name": "limit",
            "required": false,
            "schema": {
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/JobPage"
                }
              }
            },
            "description": "A page of jobs."
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "Jobs, newest first."
      }
    },
    "/api/jobs/{id}": {
      "get": {
        "operationId": "getJob",
        "parameters": [
          {
            "description": "Job id.",
            "in": "path",
            "name": "id",
            "required": true,
            "schema": {
              "format": "int64",
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            },
            "description": "The job."
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "One job."
      }
    },
    "/api/jobs/{id}/retry": {
      "post": {
        "operationId": "retryJob",
        "parameters": [
          {
            "description": "Job id.",
            "in": "path",
            "name": "id",
            "required": true,
            "schema": {
              "format": "int64",
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            },
            "description": "The job, pending."
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ],
        "summary": "Run a pending job now, or replay a dead one."
      }
    },
    "/healthz": {
      "get": {
        "operationId": "health",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "Up."
          }
        },
        "summary": "The process is up."
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "responses": {
          "200": {
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            },
            "description": "Prometheus text format."
          }
        },
        "summary": "Prometheus metrics."
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "OpenAPI 3.1."
          }
        },
        "summary": "This document."
      }
    },
    "/readyz": {
      "get": {
        "operationId": "ready",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "Ready."
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        },
        "summary": "The store is reachable."
      }
    },
    "/webhooks/{connection}": {
      "post": {
        "description": "Body size limit, then signature (per the connection's webhook.* settings and its webhookSecret), IP allow-list, rate limit, dedupe by delivery id or body hash; the event is stored and its job enqueued in one transaction before the 200.",
        "operationId": "receiveWebhook",
        "parameters": [
          {
            "in": "path",
            "name": "connection",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "content": {
            "*/*": {
              "schema": {}
            },
            "application/json": {
              "schema": {}
            }
          },
          "description": "The provider's payload; the signature is verified over these exact bytes.",
          "required": true
        },
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/WebhookReceipt"
                }
              }
            },
            "description": "Stored (status accepted) or recognised as a duplicate (status duplicate)."
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "429": {
            "$ref": "#/components/responses/Error"
          }
        },
        "summary": "Webhook intake for one connection."
      }
    }
  }
}
"""#
}
