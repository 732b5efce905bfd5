DROP TRIGGER relay_domains_forget_callouts ON relay_domains;
DROP FUNCTION recipient_callouts_forget();
DROP TABLE recipient_callouts;
