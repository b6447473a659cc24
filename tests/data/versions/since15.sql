-- What PostgreSQL 15 added and dbtruth reads: NULLS NOT DISTINCT, security_invoker views and
-- ON DELETE SET NULL of some of a foreign key's columns.
CREATE SCHEMA board;

-- No I007: NULLS NOT DISTINCT makes a NULL code collide like any other value.
CREATE TABLE board.label (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    board text NOT NULL,
    code  text,
    CONSTRAINT label_code_key UNIQUE NULLS NOT DISTINCT (board, code),
    CONSTRAINT label_board_id_key UNIQUE (board, id)
);

CREATE TABLE board.card (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    board    text NOT NULL,
    label_id bigint,
    title    text NOT NULL,
    -- Deleting its label clears the card's label_id and keeps its board.
    CONSTRAINT card_label_fkey FOREIGN KEY (board, label_id) REFERENCES board.label (board, id)
        ON DELETE SET NULL (label_id)
);
CREATE INDEX card_label_idx ON board.card (board, label_id);
ALTER TABLE board.card ENABLE ROW LEVEL SECURITY;
ALTER TABLE board.card FORCE ROW LEVEL SECURITY;
CREATE POLICY card_by_board ON board.card USING (board = current_setting('board.name'));

-- No S008 for my_card, which runs with its caller's rights; S008 for all_cards.
CREATE VIEW board.my_card WITH (security_invoker = true) AS SELECT id, title FROM board.card;
CREATE VIEW board.all_cards AS SELECT id, title FROM board.card;
