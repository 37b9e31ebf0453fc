-- Indexes the benchmark proposes for the slow pages (see bench/findings.md). `make bench`
-- creates them by hand on the bench database after its first pass, measures again and drops
-- them; the migrations do not have them. Names start with ix_bench_ so that they cannot be
-- mistaken for the migrations' own.

-- Catalogue list and course page: "the next class of each course" becomes one index probe per
-- course instead of a bitmap AND of the course_id and status indexes plus a filter on the date.
CREATE INDEX IF NOT EXISTS ix_bench_classes_course_status_starts
    ON classes (course_id, status, starts_on);

-- HR staff directory: the company's learners in name order, one page at a time, and their
-- count, from the index alone.
CREATE INDEX IF NOT EXISTS ix_bench_users_company_role_name
    ON users (company_id, role, name, id);

-- Tried and not proposed: with these the planner still scans enrolments and attendance
-- sequentially for the largest company (a fifth of all rows), so the HR dashboard gains nothing.
--   enrolments (learner_id) INCLUDE (class_id, status)
--   attendance (session_id) INCLUDE (enrolment_id, status)
