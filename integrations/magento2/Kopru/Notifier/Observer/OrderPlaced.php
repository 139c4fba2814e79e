<?php
declare(strict_types=1);

namespace Kopru\Notifier\Observer;

use Kopru\Notifier\Model\Signer;
use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\Encryption\EncryptorInterface;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;
use Psr\Log\LoggerInterface;

/**
 * Tells Köprü "an order was placed" — a hint; Köprü's poller is the truth and catches anything
 * this misses. sales_order_place_after fires inside the checkout, before the order is saved, so
 * nothing is sent here: the notification is sent at the end of the request, after the response
 * has gone to the customer (fastcgi_finish_request) and the order has committed. Every failure is
 * logged and swallowed; a short timeout bounds the wait. Checkout is never slowed or failed.
 */
class OrderPlaced implements ObserverInterface
{
    private ScopeConfigInterface $config;
    private EncryptorInterface $encryptor;
    private LoggerInterface $logger;
    private Signer $signer;

    public function __construct(
        ScopeConfigInterface $config,
        EncryptorInterface $encryptor,
        LoggerInterface $logger,
        Signer $signer
    ) {
        $this->config = $config;
        $this->encryptor = $encryptor;
        $this->logger = $logger;
        $this->signer = $signer;
    }

    public function execute(Observer $observer): void
    {
        try {
            if (!$this->config->isSetFlag('kopru/notifier/enabled')) {
                return;
            }
            $order = $observer->getEvent()->getOrder();
            $url = (string)$this->config->getValue('kopru/notifier/url');
            if ($order === null || $url === '') {
                return;
            }
            $secret = $this->encryptor->decrypt((string)$this->config->getValue('kopru/notifier/secret'));
            $timeout = max(100, (int)$this->config->getValue('kopru/notifier/timeout_ms'));
            register_shutdown_function(function () use ($order, $url, $secret, $timeout): void {
                $this->send($order, $url, $secret, $timeout);
            });
        } catch (\Throwable $e) {
            $this->logger->warning('Köprü: order notification not scheduled: ' . $e->getMessage());
        }
    }

    /**
     * @param \Magento\Sales\Model\Order $order
     */
    private function send($order, string $url, string $secret, int $timeout): void
    {
        try {
            if (function_exists('fastcgi_finish_request')) {
                fastcgi_finish_request();
            }
            $body = json_encode([
                'event' => 'order.placed',
                'entity_id' => $order->getId() !== null ? (int)$order->getId() : null,
                'increment_id' => (string)$order->getIncrementId(),
                'store_id' => (int)$order->getStoreId(),
            ], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
            if ($body === false) {
                return;
            }
            $headers = [];
            foreach ($this->signer->headers($secret, $body) as $name => $value) {
                $headers[] = $name . ': ' . $value;
            }
            $curl = curl_init($url);
            curl_setopt_array($curl, [
                CURLOPT_POST => true,
                CURLOPT_POSTFIELDS => $body,
                CURLOPT_HTTPHEADER => $headers,
                CURLOPT_RETURNTRANSFER => true,
                CURLOPT_CONNECTTIMEOUT_MS => min(1000, $timeout),
                CURLOPT_TIMEOUT_MS => $timeout,
                CURLOPT_NOSIGNAL => true,
            ]);
            curl_exec($curl);
            $status = (int)curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
            $error = curl_error($curl);
            curl_close($curl);
            if ($status < 200 || $status >= 300) {
                $this->logger->warning(sprintf('Köprü: notification for order %s answered %d %s; the poll will pick it up', $order->getIncrementId(), $status, $error));
            }
        } catch (\Throwable $e) {
            $this->logger->warning('Köprü: notification failed; the poll will pick it up: ' . $e->getMessage());
        }
    }
}
