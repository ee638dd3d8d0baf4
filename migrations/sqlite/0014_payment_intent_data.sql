-- What a Checkout Session's `payment_intent_data` puts on its PaymentIntent. `metadata` has
-- been a column since 0005; these are the rest.
ALTER TABLE payment_intents ADD COLUMN description TEXT;
ALTER TABLE payment_intents ADD COLUMN statement_descriptor TEXT;
ALTER TABLE payment_intents ADD COLUMN statement_descriptor_suffix TEXT;
