-- A session that ends unpaid (expired, canceled or failed) now sends checkout.session.expired,
-- the event Stripe integrations listen to, and checkout.session.canceled is no longer sent.
-- Endpoints subscribed to it move to checkout.session.expired, so they keep hearing of
-- canceled sessions. An endpoint subscribed to both keeps its one checkout.session.expired row;
-- one subscribed to '*' hears of it either way.
DELETE FROM webhook_endpoint_events
WHERE event_type = 'checkout.session.canceled'
  AND endpoint_id IN (
    SELECT endpoint_id FROM webhook_endpoint_events WHERE event_type = 'checkout.session.expired'
  );

UPDATE webhook_endpoint_events
SET event_type = 'checkout.session.expired'
WHERE event_type = 'checkout.session.canceled';
