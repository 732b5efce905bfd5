DROP TABLE target_events;
DROP TABLE targets;
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE messages;
