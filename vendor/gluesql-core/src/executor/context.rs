mod aggregate_context;
mod row_context;

pub use {
    aggregate_context::{AggregateContext, AggregateValues},
    row_context::RowContext,
};
