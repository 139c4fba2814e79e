<?php
/**
 * Köprü notifier: tells the Köprü hub that an order was placed, without ever holding up checkout.
 */
use Magento\Framework\Component\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Kopru_Notifier', __DIR__);
