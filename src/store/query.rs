//! A small builder for queries whose WHERE clause depends on the filters given (lists).
//! The SQL text is assembled only from fixed fragments; every value is a bound parameter.

use super::sql::FromRow;
use super::{Db, StoreResult};
use crate::domain::list::{CreatedRange, Page, PageRequest, PageStart};

/// A bound value of a built query; it owns its text, as the query outlives the filter values.
pub type Arg = super::sql::Arg<'static>;

/// A SELECT under construction: `conditions` are ANDed; `$N` placeholders are numbered as
/// arguments are pushed.
#[derive(Debug, Clone)]
pub struct Select {
    columns: &'static str,
    from: &'static str,
    conditions: Vec<String>,
    pub args: Vec<Arg>,
}

impl Select {
    pub fn new(columns: &'static str, from: &'static str) -> Select {
        Select {
            columns,
            from,
            conditions: Vec::new(),
            args: Vec::new(),
        }
    }

    /// Adds an argument and returns its placeholder.
    pub fn arg(&mut self, arg: impl Into<Arg>) -> String {
        self.args.push(arg.into());
        format!("${}", self.args.len())
    }

    /// Adds `condition`, in which `?` stands for the placeholder of `arg`.
    pub fn filter(&mut self, condition: &str, arg: impl Into<Arg>) -> &mut Self {
        let placeholder = self.arg(arg);
        self.conditions
            .push(condition.replacen('?', &placeholder, 1));
        self
    }

    /// Adds one condition that holds when any of `alternatives` does; in each, `?` stands for
    /// the placeholder of its argument. Nothing is added when there are none.
    pub fn filter_any(&mut self, alternatives: Vec<(String, Arg)>) -> &mut Self {
        if alternatives.is_empty() {
            return self;
        }
        let parts: Vec<String> = alternatives
            .into_iter()
            .map(|(condition, arg)| {
                let placeholder = self.arg(arg);
                condition.replacen('?', &placeholder, 1)
            })
            .collect();
        self.conditions.push(format!("({})", parts.join(" OR ")));
        self
    }

    pub fn filter_text(&mut self, condition: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.filter(condition, value.to_string());
        }
        self
    }

    pub fn filter_bool(&mut self, condition: &str, value: Option<bool>) -> &mut Self {
        if let Some(value) = value {
            self.filter(condition, value);
        }
        self
    }

    /// Adds a condition without arguments.
    pub fn condition(&mut self, condition: &'static str) -> &mut Self {
        self.conditions.push(condition.to_string());
        self
    }

    /// `column IN (...)` over `values`; an empty list matches nothing. A single value is an
    /// equality, which lets an index on `(…, column, id)` deliver rows already in order.
    pub fn filter_in(&mut self, column: &str, values: &[String]) -> &mut Self {
        match values {
            [] => {
                self.conditions.push("1 = 0".to_string());
                return self;
            }
            [only] => {
                return self.filter(&format!("{column} = ?"), only.clone());
            }
            _ => {}
        }
        let placeholders: Vec<String> = values.iter().map(|v| self.arg(v.clone())).collect();
        self.conditions
            .push(format!("{column} IN ({})", placeholders.join(", ")));
        self
    }

    /// Restricts to one account and mode: every listing query starts with this.
    pub fn scope(&mut self, prefix: &str, account_id: &str, livemode: bool) -> &mut Self {
        self.filter(&format!("{prefix}account_id = ?"), account_id.to_string());
        self.filter(&format!("{prefix}livemode = ?"), livemode);
        self
    }

    pub fn created(&mut self, column: &str, range: &CreatedRange) -> &mut Self {
        for (op, bound) in [
            (">", range.gt),
            (">=", range.gte),
            ("<", range.lt),
            ("<=", range.lte),
        ] {
            if let Some(bound) = bound {
                self.filter(&format!("{column} {op} ?"), bound);
            }
        }
        self
    }

    fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// `SELECT COUNT(*)` over the same filters, from `from` (the table without the joins the
    /// page needs, so the count can be answered from an index alone).
    pub fn count_sql(&self, from: &str) -> String {
        format!("SELECT COUNT(*) FROM {from}{}", self.where_clause())
    }

    /// The page's SQL, newest first by `id_column`, fetching one row more than the limit so the
    /// caller can tell whether more follow. For `Before` the rows come oldest first and the
    /// caller reverses them.
    pub fn page_sql(mut self, id_column: &str, page: &PageRequest) -> (String, Vec<Arg>) {
        let fetch = i64::from(page.limit) + 1;
        let (order, offset) = match &page.start {
            PageStart::Offset(offset) => ("DESC", *offset),
            PageStart::After(id) => {
                self.filter(&format!("{id_column} < ?"), id.clone());
                ("DESC", 0)
            }
            PageStart::Before(id) => {
                self.filter(&format!("{id_column} > ?"), id.clone());
                ("ASC", 0)
            }
        };
        let limit = self.arg(fetch);
        let offset = self.arg(offset as i64);
        let sql = format!(
            "SELECT {} FROM {}{} ORDER BY {id_column} {order} LIMIT {limit} OFFSET {offset}",
            self.columns,
            self.from,
            self.where_clause()
        );
        (sql, self.args)
    }
}

impl Select {
    /// The first `limit` rows by `column`, ascending (oldest deadlines first).
    pub fn oldest_first_sql(mut self, column: &str, limit: i64) -> (String, Vec<Arg>) {
        let limit = self.arg(limit);
        let sql = format!(
            "SELECT {} FROM {}{} ORDER BY {column} LIMIT {limit}",
            self.columns,
            self.from,
            self.where_clause()
        );
        (sql, self.args)
    }
}

impl Select {
    /// Reads one page of rows, newest first (see [`Select::page_sql`]).
    pub async fn fetch_page<R: FromRow>(
        self,
        db: &Db,
        id_column: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<R>> {
        let (sql, args) = self.page_sql(id_column, page);
        let rows: Vec<R> = db.fetch_all(&sql, &args).await?;
        let (items, has_more) = finish_page(rows, page);
        Ok(Page { items, has_more })
    }

    /// Counts the rows matching the filters, from `from` (see [`Select::count_sql`]).
    pub async fn count(&self, db: &Db, from: &str) -> StoreResult<u64> {
        let (count,): (i64,) = db.fetch_one(&self.count_sql(from), &self.args).await?;
        Ok(count as u64)
    }
}

/// Trims the extra row fetched by [`Select::page_sql`] and puts rows newest first.
pub fn finish_page<T>(mut rows: Vec<T>, page: &PageRequest) -> (Vec<T>, bool) {
    let has_more = rows.len() > page.limit as usize;
    rows.truncate(page.limit as usize);
    if matches!(page.start, PageStart::Before(_)) {
        rows.reverse();
    }
    (rows, has_more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_arguments() {
        let mut select = Select::new("id", "products");
        select
            .scope("", "acct_1", false)
            .filter_text("status = ?", Some("ACTIVE"))
            .filter_text("x = ?", None);
        let page = PageRequest {
            limit: 10,
            start: PageStart::After("prod_9".into()),
            after_param: "starting_after",
        };
        let (sql, args) = select.page_sql("id", &page);
        assert_eq!(
            sql,
            "SELECT id FROM products WHERE account_id = $1 AND livemode = $2 AND status = $3 AND id < $4 \
             ORDER BY id DESC LIMIT $5 OFFSET $6"
        );
        assert_eq!(args.len(), 6);
    }
}
