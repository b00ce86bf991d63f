DROP TABLE vault_keys;
DROP TABLE integrations;
DROP TABLE api_keys;
DROP TABLE accounts;
