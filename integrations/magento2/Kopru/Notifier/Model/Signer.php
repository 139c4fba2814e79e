<?php
declare(strict_types=1);

namespace Kopru\Notifier\Model;

/**
 * The signature Köprü verifies: hex HMAC-SHA256 over "<timestamp>.<body>", sent as
 * "X-Kopru-Signature: sha256=<hex>" beside "X-Kopru-Timestamp: <unix seconds>".
 * No Magento dependency, so it can be run and tested on its own.
 */
class Signer
{
    public function sign(string $secret, string $timestamp, string $body): string
    {
        return 'sha256=' . hash_hmac('sha256', $timestamp . '.' . $body, $secret);
    }

    /**
     * @return array<string, string> header name => value
     */
    public function headers(string $secret, string $body, ?int $now = null, ?string $deliveryId = null): array
    {
        $timestamp = (string)($now ?? time());
        return [
            'Content-Type' => 'application/json',
            'X-Kopru-Timestamp' => $timestamp,
            'X-Kopru-Signature' => $this->sign($secret, $timestamp, $body),
            'X-Kopru-Topic' => 'order.placed',
            'X-Kopru-Delivery' => $deliveryId ?? bin2hex(random_bytes(16)),
        ];
    }
}
