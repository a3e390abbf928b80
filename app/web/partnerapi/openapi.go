package partnerapi

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

// Document is the OpenAPI 3.1 description of the POS/CRM API, served at
// /api/partner/v1/openapi.json. A test checks it against the route table: every
// operation here is a registered route and every route under Base is described.
func Document() obj {
	ref := func(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
	errResp := func(desc string) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
	}
	codeParam := obj{"name": "code", "in": "path", "required": true, "description": "The booking's code as the member shows it (letters in any case).",
		"schema": obj{"type": "string", "minLength": 1, "maxLength": 32}}
	idemParam := obj{"name": "Idempotency-Key", "in": "header", "required": false,
		"description": "Makes the write safe to retry: the same key with the same request returns the first answer again (with the header Idempotent-Replayed: true), the same key with another request is 409 idempotency_key_reused, and a duplicate sent while the first is still running waits for its answer (409 idempotency_in_progress if it takes over 10 seconds). Keys are per API key.",
		"schema":      obj{"type": "string", "minLength": 1, "maxLength": 200}}
	common := obj{
		"401": errResp("Missing, malformed, unknown or revoked API key (code api_key)."),
		"403": errResp("The key's scopes do not allow the call (api_scope), or the partner is suspended (partner_inactive)."),
		"429": errResp("Over the key's rate limit; Retry-After says when to try again (too_many)."),
	}
	with := func(codes obj) obj {
		out := obj{}
		for k, v := range common {
			out[k] = v
		}
		for k, v := range codes {
			out[k] = v
		}
		return out
	}
	bookingOK := obj{"description": "The booking after the action.", "content": obj{"application/json": obj{"schema": ref("Booking")}}}
	write := func(id, summary, scopeNote string, body obj, extra obj) obj {
		op := obj{
			"operationId": id, "summary": summary, "description": scopeNote, "tags": []string{"bookings"},
			"security":   []obj{{"bearer": []string{"redeem"}}},
			"parameters": []obj{codeParam, idemParam},
			"responses": with(obj{
				"200": bookingOK,
				"400": errResp("The body is not the JSON object described, or a bad Idempotency-Key (bad_request)."),
				"404": errResp("No booking with this code at this partner (not_found)."),
				"409": errResp("The booking's status does not allow it (booking_transition), or an Idempotency-Key conflict."),
			}),
		}
		for k, v := range extra {
			op["responses"].(obj)[k] = v
		}
		if body != nil {
			op["requestBody"] = body
		}
		return op
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "IKRA POS/CRM API",
			"version": "1",
			"description": "A partner's till or CRM reads its offers and bookings and redeems bookings at the counter. " +
				"Authenticate with an API key the partner's owner creates in the portal (/partner/keys): " +
				"`Authorization: Bearer ikra_…`; a session cookie is not accepted. Scope read lists and reads; scope redeem " +
				"confirms, declines, completes and reverses. Money is in tiyn (1/100 tenge), bonuses in whole bonuses. " +
				"Errors are `{\"error\":{\"code\",\"message\",\"request_id\"}}`. This document itself needs no key.",
		},
		"servers":  []obj{{"url": Base}},
		"tags":     []obj{{"name": "offers"}, {"name": "bookings"}, {"name": "meta"}},
		"security": []obj{{"bearer": []string{}}},
		"paths": obj{
			"/openapi.json": obj{"get": obj{
				"operationId": "openapi", "summary": "This document", "tags": []string{"meta"}, "security": []obj{},
				"responses": obj{"200": obj{"description": "The OpenAPI 3.1 document.", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}},
			}},
			"/offers": obj{"get": obj{
				"operationId": "listOffers", "summary": "The partner's offers, last changed first", "tags": []string{"offers"},
				"security": []obj{{"bearer": []string{"read"}}},
				"responses": with(obj{"200": obj{"description": "The offers.", "content": obj{"application/json": obj{"schema": obj{
					"type": "object", "required": []string{"items"},
					"properties": obj{"items": obj{"type": "array", "items": ref("Offer")}}}}}}}),
			}},
			"/bookings": obj{"get": obj{
				"operationId": "listBookings", "summary": "The partner's bookings, newest first, a page at a time", "tags": []string{"bookings"},
				"security": []obj{{"bearer": []string{"read"}}},
				"parameters": []obj{
					{"name": "status", "in": "query", "required": false, "schema": ref("BookingStatus")},
					{"name": "cursor", "in": "query", "required": false, "description": "The `next` of the previous page.", "schema": obj{"type": "string"}},
					{"name": "limit", "in": "query", "required": false, "schema": obj{"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
				},
				"responses": with(obj{
					"200": obj{"description": "A page of bookings; `next` is null on the last page.", "content": obj{"application/json": obj{"schema": obj{
						"type": "object", "required": []string{"items", "next"},
						"properties": obj{"items": obj{"type": "array", "items": ref("Booking")}, "next": obj{"type": []string{"string", "null"}}}}}}},
					"400": errResp("An unknown status, cursor or limit (bad_request)."),
				}),
			}},
			"/bookings/{code}": obj{"get": obj{
				"operationId": "getBooking", "summary": "One booking by its code", "tags": []string{"bookings"},
				"security":   []obj{{"bearer": []string{"read"}}},
				"parameters": []obj{codeParam},
				"responses": with(obj{
					"200": obj{"description": "The booking.", "content": obj{"application/json": obj{"schema": ref("Booking")}}},
					"404": errResp("No booking with this code at this partner (not_found)."),
				}),
			}},
			"/bookings/{code}/confirm": obj{"post": write("confirmBooking", "Accept a request", "Scope redeem. A requested booking becomes confirmed; the member is told.", nil, nil)},
			"/bookings/{code}/decline": obj{"post": write("declineBooking", "Refuse a request with a reason",
				"Scope redeem. A requested booking becomes declined; its bonus reservation is released and the member is told the reason.",
				obj{"required": true, "content": obj{"application/json": obj{"schema": ref("DeclineRequest")}}},
				obj{"422": errResp("No reason (reason_required).")})},
			"/bookings/{code}/complete": obj{"post": write("completeBooking", "Record the deal",
				"Scope redeem. A confirmed booking becomes completed with the deal amount in tiyn; the cashback is credited (pending for the reversal window).",
				obj{"required": true, "content": obj{"application/json": obj{"schema": ref("CompleteRequest")}}},
				obj{"422": errResp("The amount is not a positive whole number of tiyn (amount_invalid).")})},
			"/bookings/{code}/reverse": obj{"post": write("reverseBooking", "Undo a completed deal",
				"Scope redeem. Within the reversal window a completed booking becomes reversed and its cashback is taken back; after it, 409 booking_window_closed.", nil, nil)},
		},
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer",
				"description": "An API key from /partner/keys: `ikra_` and 43 characters. Scopes: read, redeem."}},
			"schemas": obj{
				"Error": obj{"type": "object", "required": []string{"error"}, "properties": obj{"error": obj{
					"type": "object", "required": []string{"code", "message"},
					"properties": obj{"code": obj{"type": "string"}, "message": obj{"type": "string"}, "request_id": obj{"type": "string"}}}}},
				"BookingStatus": obj{"type": "string", "enum": []string{"requested", "confirmed", "declined", "cancelled", "expired", "completed", "no_show", "reversed"}},
				"Offer": obj{"type": "object",
					"required": []string{"id", "title", "summary", "kind", "status", "cashback_bp", "price_bonus", "capacity", "per_member_limit"},
					"properties": obj{
						"id": obj{"type": "integer"}, "title": obj{"type": "string"}, "summary": obj{"type": "string"},
						"kind":             obj{"type": "string", "enum": []string{"discount", "service", "event"}},
						"status":           obj{"type": "string", "enum": []string{"draft", "pending", "published", "rejected", "archived"}},
						"cashback_bp":      obj{"type": "integer", "description": "Cashback in basis points of the deal: 500 = 5%."},
						"price_bonus":      obj{"type": "integer", "description": "Bonuses reserved at booking; 0: free."},
						"capacity":         obj{"type": "integer", "description": "0: unlimited."},
						"per_member_limit": obj{"type": "integer", "description": "0: unlimited."},
						"valid_from":       obj{"type": []string{"string", "null"}, "format": "date-time"},
						"valid_until":      obj{"type": []string{"string", "null"}, "format": "date-time"},
						"published_at":     obj{"type": []string{"string", "null"}, "format": "date-time"},
					}},
				"Booking": obj{"type": "object",
					"required": []string{"id", "code", "status", "offer", "member", "bonus_price", "deal_amount", "created_at"},
					"properties": obj{
						"id": obj{"type": "integer"}, "code": obj{"type": "string"}, "status": ref("BookingStatus"),
						"offer": obj{"type": "object", "properties": obj{"id": obj{"type": "integer"}, "title": obj{"type": "string"}}},
						"member": obj{"type": "object", "description": "Only the member's first name.",
							"properties": obj{"first_name": obj{"type": "string"}}},
						"comment":        obj{"type": "string"},
						"date":           obj{"type": []string{"string", "null"}, "format": "date", "description": "The wished day (Asia/Almaty)."},
						"bonus_price":    obj{"type": "integer", "description": "Bonuses reserved for it."},
						"deal_amount":    obj{"type": "integer", "description": "The deal in tiyn, once completed."},
						"decline_reason": obj{"type": "string"},
						"created_at":     obj{"type": "string", "format": "date-time"},
						"expires_at":     obj{"type": []string{"string", "null"}, "format": "date-time"},
						"confirmed_at":   obj{"type": []string{"string", "null"}, "format": "date-time"},
						"completed_at":   obj{"type": []string{"string", "null"}, "format": "date-time"},
						"cancelled_at":   obj{"type": []string{"string", "null"}, "format": "date-time"},
						"reversed_at":    obj{"type": []string{"string", "null"}, "format": "date-time"},
					}},
				"DeclineRequest": obj{"type": "object", "required": []string{"reason"}, "additionalProperties": false,
					"properties": obj{"reason": obj{"type": "string", "minLength": 1, "maxLength": 300}}},
				"CompleteRequest": obj{"type": "object", "required": []string{"amount"}, "additionalProperties": false,
					"properties": obj{"amount": obj{"type": "integer", "minimum": 1, "description": "The deal in tiyn: 2500050 is 25 000,50 ₸."}}},
			},
		},
	}
}
