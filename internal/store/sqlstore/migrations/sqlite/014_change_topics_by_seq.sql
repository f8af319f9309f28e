-- A change's topics were indexed twice: by (tenant, topic, seq), which delta rounds
-- and the matcher's readers page, and by seq alone, which only pruning read. Every
-- change wrote each of its topics (four for a message) into both. Pruning now finds
-- a pruned change's topic rows by the first key, from the topics the change lists
-- itself, so the second index goes.
DROP INDEX change_topics_seq;
